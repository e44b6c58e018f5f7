"""Chat platform edges: each translates events into engine calls and answers into messages."""

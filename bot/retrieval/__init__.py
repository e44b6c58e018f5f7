"""From articles to answers: loading, chunking, embedding, the index on disk, search, the engine."""

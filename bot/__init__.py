"""newsbot: answers questions about a folder of news articles, with cited passages."""

import os

# The embedding engine and FAISS use OpenMP, whose threads spin while they wait. On a
# busy machine (the chat clients' threads, other processes) that spinning made a single
# question 5x slower in our measurements (bench/README); passive waiting costs nothing
# measurable when idle. Set before either library loads; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

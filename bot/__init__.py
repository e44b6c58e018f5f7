"""newsbot: answers questions about a folder of news articles, with cited passages."""

import os

# The embedding engine and FAISS use OpenMP, whose threads spin while they wait. With
# the other core busy, spinning made the first question take 2.2 s instead of 0.4 s here;
# passive waiting costs about 10 ms a question on an idle machine (README, Performance).
# Set before either library loads; an explicit OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

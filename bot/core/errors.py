"""Expected errors: their message is shown to the user as written (see messages.py)."""


class NewsbotError(Exception):
    """An error whose message tells the user what went wrong and how to fix it."""


class ConfigError(NewsbotError):
    """A setting is missing or malformed."""


class SeedsError(NewsbotError):
    """The seeds folder is missing, empty or unreadable."""


class ModelError(NewsbotError):
    """The embedding model cannot be loaded."""


class IndexCorrupt(NewsbotError):
    """The index on disk is damaged, incomplete or from another version."""


class IndexWriteError(NewsbotError):
    """The index folder cannot be written."""

"""Shared state: thread memory, feedback, channel settings, de-duplication and rate limits.

One small interface (`Store`) over SQLite (default) or PostgreSQL, so several replicas of
`newsbot serve` share it. The schema is created and migrated by the app (`open_store`).
"""

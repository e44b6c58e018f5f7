"""Alembic migrations of the store's schema, run by `open_store` (no alembic.ini needed)."""

"""Alembic's entry point: migrate on the connection `bot.state.migrate` hands over (already locked)."""

from alembic import context

from bot.state.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

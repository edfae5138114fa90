"""Alembic's environment: runs the migrations on the connection shared/db/migrate.py hands over, inside the
transaction it began (which holds the lock that makes one process at a time migrate)."""

from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()

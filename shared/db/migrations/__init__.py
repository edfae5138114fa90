"""Alembic's environment (env.py) and the migrations (versions/), run by shared/db/migrate.py."""

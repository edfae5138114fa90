"""The job and project stores' database: one implementation on SQLAlchemy Core for SQLite and PostgreSQL,
its schema kept by Alembic migrations that run when a store opens the database."""

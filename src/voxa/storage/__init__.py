"""SQL storage: the source of truth (SQLite embedded, PostgreSQL in production)."""

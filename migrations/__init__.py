"""simdock's Alembic migrations (installed as ``simdock_migrations``)."""

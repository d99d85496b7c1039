"""Periodic jobs: cleanup (in-process schedule, CLI, Celery beat)."""

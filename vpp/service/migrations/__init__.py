"""Alembic migrations of the service schema (run by :func:`vpp.service.db.upgrade_schema`)."""

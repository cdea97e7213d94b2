"""Persistence: the engine and sessions, the tables, the audit log, tokens encrypted at rest, migrations."""

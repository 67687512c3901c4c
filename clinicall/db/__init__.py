"""The store: SQLAlchemy models, the engine factory, migrations and the event journal."""

from clinicall.db.engine import async_url, create_engine, session_factory
from clinicall.db.journal import JournalEntry, insert_journal
from clinicall.db.migrate import current_revision, schema_diff, upgrade

__all__ = [
    "JournalEntry",
    "async_url",
    "create_engine",
    "current_revision",
    "insert_journal",
    "schema_diff",
    "session_factory",
    "upgrade",
]

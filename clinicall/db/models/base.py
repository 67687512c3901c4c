"""The declarative base every table of the store derives from.

Constraint names follow a fixed convention so that Alembic (and SQLite's batch mode, which
rebuilds tables) can address them by name on both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import JSON, BigInteger, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, mapped_column

from clinicall.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BIG_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")

BigId = Annotated[int, mapped_column(BIG_ID_TYPE, primary_key=True, autoincrement=True)]
Id = Annotated[int, mapped_column(primary_key=True, autoincrement=True)]

# A JSON document: JSONB on PostgreSQL (indexable), JSON text on SQLite.
JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Base of all tables.  Every ``datetime`` column is a UTC instant (``UTCDateTime``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}

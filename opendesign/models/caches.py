"""Counters that several processes read to agree on what their caches may still serve."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CacheGeneration(Base):
    """A named counter bumped in the same transaction as every catalogue change (see ``opendesign.generation``)."""

    __tablename__ = "cache_generation"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)

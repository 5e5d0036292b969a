"""Makers who produce designs, their productions and what they give back."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .catalogue import Design, DesignVersion


class Maker(Base):
    __tablename__ = "maker"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(32), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    #: sha256 of the maker file it was imported from; unchanged files are skipped.
    source_hash: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    productions: Mapped[list[Production]] = relationship(back_populates="maker", cascade="all, delete-orphan",
                                                         passive_deletes=True)
    contributions: Mapped[list[Contribution]] = relationship(back_populates="maker", cascade="all, delete-orphan",
                                                             passive_deletes=True)
    owner: Mapped[User | None] = relationship()


class Production(Base):
    """A maker producing (and usually selling) one design version."""

    __tablename__ = "production"

    id: Mapped[int] = mapped_column(primary_key=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("maker.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    modified: Mapped[bool] = mapped_column(Boolean, default=False)
    modified_source: Mapped[str] = mapped_column(String(300), default="")
    attribution: Mapped[bool] = mapped_column(Boolean, default=True)
    price: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Compliance verdict as last evaluated (see opendesign.licenses); stored
    #: so listings need not re-evaluate, recomputed on every import.
    verdict: Mapped[str | None] = mapped_column(String(16), index=True)
    verdict_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    maker: Mapped[Maker] = relationship(back_populates="productions")
    design_version: Mapped[DesignVersion] = relationship(back_populates="productions")


class Contribution(Base):
    """Something a maker gave back to a design's commons."""

    __tablename__ = "contribution"

    id: Mapped[int] = mapped_column(primary_key=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("maker.id", ondelete="CASCADE"), index=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("design.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    maker: Mapped[Maker] = relationship(back_populates="contributions")
    design: Mapped[Design] = relationship(back_populates="contributions")

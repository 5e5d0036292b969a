"""Makers who produce designs, their productions and what they give back (the reciprocity ledger)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .catalogue import Design, DesignVersion
    from .ledger import Attestation, LedgerReview


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
    # The ledger is append-only: the ORM never deletes or re-parents entries (and the database refuses to).
    contributions: Mapped[list[Contribution]] = relationship(back_populates="maker", passive_deletes="all",
                                                             order_by="Contribution.position")
    attestations: Mapped[list[Attestation]] = relationship(back_populates="maker", passive_deletes="all",
                                                           order_by="Attestation.position")
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
    #: Units made from period_start to period_end (both or neither with units).
    units: Mapped[int | None] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    #: Where recipients find the product's complete source (CERN OHL v2 §4); empty if not recorded.
    source_location: Mapped[str] = mapped_column(String(300), default="")
    #: The product carries the design's notice (None: not recorded).
    notice: Mapped[bool | None] = mapped_column(Boolean)

    maker: Mapped[Maker] = relationship(back_populates="productions")
    design_version: Mapped[DesignVersion] = relationship(back_populates="productions")


class Contribution(Base):
    """One entry of the reciprocity ledger: something a maker gave back to a design's commons.

    Append-only: a row is never changed or deleted (the database refuses it).
    Its state is the latest of its :class:`~.ledger.LedgerReview` rows
    (``claimed`` without one); a correction is a new entry whose ``corrects_id``
    names the one it replaces.
    """

    __tablename__ = "contribution"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public id (16 hex digits) that the CLI, the web and the API name the entry by.
    entry_id: Mapped[str] = mapped_column(String(16), unique=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("maker.id", ondelete="RESTRICT"), index=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("design.id", ondelete="RESTRICT"), index=True)
    #: The version whose lineage the entry's value flows up: the one named, else the latest when recorded.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("design_version.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The amount in minor units of its unit (cents for EUR, hundredths for hours); exact.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    scale: Mapped[int] = mapped_column(SmallInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    date: Mapped[date] = mapped_column(Date)
    #: URLs and ``sha256:<hex>`` digests, as validated.
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id", ondelete="RESTRICT"), unique=True)
    #: file | web | api | legacy (recorded before the ledger existed).
    origin: Mapped[str] = mapped_column(String(8))
    #: Who recorded it: a username, or the maker file it came from.
    recorded_by: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    position: Mapped[int] = mapped_column(Integer, default=0)

    maker: Mapped[Maker] = relationship(back_populates="contributions")
    design: Mapped[Design] = relationship(back_populates="contributions")
    version: Mapped[DesignVersion | None] = relationship()
    corrects: Mapped[Contribution | None] = relationship(remote_side=[id], back_populates="corrected_by")
    corrected_by: Mapped[Contribution | None] = relationship(back_populates="corrects", uselist=False)
    reviews: Mapped[list[LedgerReview]] = relationship(back_populates="contribution", passive_deletes="all",
                                                       order_by="LedgerReview.id")

    @property
    def amount(self) -> Decimal:
        """The exact amount, with *scale* decimal places."""
        return Decimal(self.amount_minor).scaleb(-self.scale).quantize(Decimal(1).scaleb(-self.scale))

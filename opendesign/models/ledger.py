"""The reciprocity ledger's other records: reviews of entries, stewards, attestations and their challenges.

Reviews, attestations, challenges and resolutions are append-only like the
entries themselves (the database refuses updates and deletes); stewards are a
design owner's list and may change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .catalogue import Design
    from .commons import Contribution, Maker


class LedgerReview(Base):
    """A steward (or the catalogue's operator) confirming or disputing an entry: one state change."""

    __tablename__ = "ledger_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contribution.id", ondelete="RESTRICT"), index=True)
    #: confirm | dispute
    action: Mapped[str] = mapped_column(String(16))
    #: The state the entry is in after this review: confirmed | disputed.
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    #: The username, or ``operator (<login>)`` for the CLI.
    actor: Mapped[str] = mapped_column(String(100))
    #: web | api | cli | file
    via: Mapped[str] = mapped_column(String(8))
    #: For decisions kept in a file: their key, so re-reading the file applies each once.
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    contribution: Mapped[Contribution] = relationship(back_populates="reviews")
    user: Mapped[User | None] = relationship()


class DesignSteward(Base):
    """An account the design's owner named to confirm and dispute what makers give back to it."""

    __tablename__ = "design_steward"

    design_id: Mapped[int] = mapped_column(ForeignKey("design.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    design: Mapped[Design] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Attestation(Base):
    """A maker's attestation that it is worker-owned, with its evidence and period of validity."""

    __tablename__ = "attestation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public id (16 hex digits).
    key: Mapped[str] = mapped_column(String(16), unique=True)
    maker_id: Mapped[int] = mapped_column(ForeignKey("maker.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="worker-ownership")
    evidence: Mapped[str] = mapped_column(String(500))
    registry_id: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    position: Mapped[int] = mapped_column(Integer, default=0)

    maker: Mapped[Maker] = relationship(back_populates="attestations")
    challenges: Mapped[list[AttestationChallenge]] = relationship(back_populates="attestation",
                                                                  passive_deletes="all",
                                                                  order_by="AttestationChallenge.id")


class AttestationChallenge(Base):
    """Any signed-in account questioning an attestation, with its reason."""

    __tablename__ = "attestation_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    attestation_id: Mapped[int] = mapped_column(ForeignKey("attestation.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    actor: Mapped[str] = mapped_column(String(100))
    via: Mapped[str] = mapped_column(String(8))
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    attestation: Mapped[Attestation] = relationship(back_populates="challenges")
    resolution: Mapped[ChallengeResolution | None] = relationship(back_populates="challenge", uselist=False,
                                                                  passive_deletes="all")


class ChallengeResolution(Base):
    """A steward of an affected design (or the operator) deciding a challenge: upheld or dismissed."""

    __tablename__ = "challenge_resolution"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("attestation_challenge.id", ondelete="RESTRICT"),
                                              unique=True)
    #: upheld (the attestation no longer counts) | dismissed (it stands)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    #: The affected design whose steward decided (None: the operator).
    design_id: Mapped[int | None] = mapped_column(ForeignKey("design.id", ondelete="RESTRICT"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    actor: Mapped[str] = mapped_column(String(100))
    via: Mapped[str] = mapped_column(String(8))
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    challenge: Mapped[AttestationChallenge] = relationship(back_populates="resolution")
    design: Mapped[Design | None] = relationship()

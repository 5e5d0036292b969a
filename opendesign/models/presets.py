"""Parameter sets that users save for a design version."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .catalogue import DesignVersion


class ParameterSet(Base):
    """A named, canonical parameter set of one design version, saved by a user.

    Private sets are seen by their owner only; public ones are listed on the
    design page with their author. ``public_id`` (random) names the set in its
    permalink and the API, so private sets cannot be found by counting ids.
    """

    __tablename__ = "parameter_set"
    __table_args__ = (
        UniqueConstraint("user_id", "version_id", "name"),
        # The design page lists a version's public sets, newest first.
        Index("ix_parameter_set_version_public", "version_id", "is_public", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Every parameter of the version, canonical (:func:`opendesign.parameters.canonicalise`).
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: :func:`opendesign.bundles.builder.params_hash` of :attr:`values`: names its bundle.
    params_hash: Mapped[str] = mapped_column(String(16))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    version: Mapped[DesignVersion] = relationship()

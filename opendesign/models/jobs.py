"""Render jobs and remembered render failures, kept in the catalogue database.

The rows live here (the core) so the schema has one owner; the logic that
creates, claims and runs them is :mod:`renderers.jobs`. Keeping job state in
the database is what lets a job URL handed out by one web process be polled on
any other, and lets two workers agree on who renders a key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class RenderJobRow(Base):
    """One requested render: (version, parameters, formats, quality) on a queue, and what became of it."""

    __tablename__ = "render_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    #: Canonical parameters (opendesign.parameters.canonical_json).
    params_json: Mapped[str] = mapped_column(Text)
    #: Comma-separated format names, in the order asked for.
    formats: Mapped[str] = mapped_column(String(64))
    quality: Mapped[str] = mapped_column(String(8))
    #: The part the requester wants (the render makes all of them); None for the whole model.
    part: Mapped[str | None] = mapped_column(String(64))
    #: ``preview`` or ``batch``.
    queue: Mapped[str] = mapped_column(String(16), default="preview")
    #: ``queued`` | ``running`` | ``done`` | ``failed``.
    state: Mapped[str] = mapped_column(String(16), default="queued")
    category: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    #: JSON list of the files made, once done.
    result_json: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Refreshed by the worker running the job; a running row whose heartbeat is stale may be claimed again.
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_render_jobs_state_updated", "state", "updated_at"),)


class RenderFailure(Base):
    """A (version, parameters, quality) whose render failed for a reason of its own, remembered until it expires."""

    __tablename__ = "render_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"))
    #: sha256 of the canonical parameters' JSON.
    params_hash: Mapped[str] = mapped_column(String(64))
    quality: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()

    __table_args__ = (UniqueConstraint("version_id", "params_hash", "quality"),)

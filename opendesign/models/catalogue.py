"""The design catalogue: designs, their immutable versions and what a version holds."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Integer, LargeBinary, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .commons import Contribution, Production


class Design(Base):
    """A design across all its versions; the slug is its permanent name."""

    __tablename__ = "design"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Denormalised for listing and sorting without a semver sort per row;
    # kept in step by the importer whenever a version is added or removed.
    latest_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("design_version.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[DesignVersion]] = relationship(
        back_populates="design", cascade="all, delete-orphan", foreign_keys="DesignVersion.design_id",
        passive_deletes=True,
    )
    latest_version: Mapped[DesignVersion | None] = relationship(foreign_keys=[latest_version_id], post_update=True)
    owner: Mapped[User | None] = relationship()
    contributions: Mapped[list[Contribution]] = relationship(back_populates="design", passive_deletes=True)


version_tag = Table(
    "version_tag",
    Base.metadata,
    Column("version_id", ForeignKey("design_version.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


class DesignVersion(Base):
    """One released version. Immutable: its content hash never changes."""

    __tablename__ = "design_version"
    __table_args__ = (UniqueConstraint("design_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("design.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    license: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    readme: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The manifest exactly as validated, for exports that need every field.
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: sha256 over every file of the design folder (see manifests.content_hash).
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: Where it came from (opendesign.catalogue.origins): decides whether its model may
    #: render when the sandbox is not isolated.
    origin: Mapped[str] = mapped_column(String(16), default="folder", server_default="folder")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    design: Mapped[Design] = relationship(back_populates="versions", foreign_keys=[design_id])
    files: Mapped[list[DesignFile]] = relationship(cascade="all, delete-orphan", order_by="DesignFile.path",
                                                   passive_deletes=True)
    parameters: Mapped[list[Parameter]] = relationship(cascade="all, delete-orphan", order_by="Parameter.position",
                                                       passive_deletes=True)
    parts: Mapped[list[Part]] = relationship(cascade="all, delete-orphan", order_by="Part.position",
                                             passive_deletes=True)
    bom_items: Mapped[list[BomItem]] = relationship(cascade="all, delete-orphan", order_by="BomItem.position",
                                                    passive_deletes=True)
    authors: Mapped[list[Author]] = relationship(cascade="all, delete-orphan", order_by="Author.position",
                                                 passive_deletes=True)
    tags: Mapped[list[Tag]] = relationship(secondary=version_tag, order_by="Tag.name")
    parents: Mapped[list[Lineage]] = relationship(
        foreign_keys="Lineage.child_id", back_populates="child", cascade="all, delete-orphan", passive_deletes=True
    )
    children: Mapped[list[Lineage]] = relationship(
        foreign_keys="Lineage.parent_id", back_populates="parent", passive_deletes=True
    )
    productions: Mapped[list[Production]] = relationship(back_populates="design_version", passive_deletes=True)

    @property
    def slug(self) -> str:
        return self.design.slug

    @property
    def ref(self) -> str:
        return f"{self.design.slug}@{self.version}"

    def file(self, path: str) -> bytes:
        for f in self.files:
            if f.path == path:
                return f.data
        raise KeyError(path)


class DesignFile(Base):
    """A file of a released version, kept so any version can be rendered and bundled later."""

    __tablename__ = "design_file"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Parameter(Base):
    __tablename__ = "parameter"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    default: Mapped[Any] = mapped_column(JSON)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    step: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200))
    help: Mapped[str | None] = mapped_column(Text)
    choices: Mapped[list[str] | None] = mapped_column(JSON)


class Part(Base):
    __tablename__ = "part"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    material: Mapped[str] = mapped_column(String(100))
    process: Mapped[str] = mapped_column(String(16), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)


class BomItem(Base):
    __tablename__ = "bom_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")


class Author(Base):
    __tablename__ = "author"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(300))


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


class Lineage(Base):
    """A derivation edge: the child version derives from the parent version."""

    __tablename__ = "lineage"

    child_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("design_version.id", ondelete="RESTRICT"), primary_key=True,
                                           index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    child: Mapped[DesignVersion] = relationship(foreign_keys=[child_id], back_populates="parents")
    parent: Mapped[DesignVersion] = relationship(foreign_keys=[parent_id], back_populates="children")


class Artifact(Base):
    """A rendered file in the content-addressed cache, recorded with its sha256."""

    __tablename__ = "artifact"

    id: Mapped[int] = mapped_column(primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("design_version.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(8))
    quality: Mapped[str] = mapped_column(String(8))
    part: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    size: Mapped[int] = mapped_column(Integer)
    triangles: Mapped[int | None] = mapped_column(Integer)
    watertight: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)

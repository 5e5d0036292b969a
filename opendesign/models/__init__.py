"""SQLAlchemy 2 models of the catalogue. Import from here; the modules split by area."""

from .accounts import ApiToken, AuditEvent, User, UserSession
from .base import Base, utcnow
from .catalogue import Artifact, Author, BomItem, Design, DesignFile, DesignVersion, Lineage, Parameter, Part, Tag
from .commons import Contribution, Maker, Production
from .presets import ParameterSet

__all__ = [
    "ApiToken", "Artifact", "AuditEvent", "Author", "Base", "BomItem", "Contribution", "Design", "DesignFile",
    "DesignVersion", "Lineage", "Maker", "Parameter", "ParameterSet", "Part", "Production", "Tag", "User", "UserSession",
    "utcnow",
]

"""SQLAlchemy 2 models of the catalogue. Import from here; the modules split by area."""

from .accounts import ApiToken, AuditEvent, User, UserSession
from .base import Base, as_utc, utcnow
from .caches import CacheGeneration
from .catalogue import Artifact, Author, BomItem, Design, DesignFile, DesignVersion, Lineage, Parameter, Part, Tag
from .commons import Contribution, Maker, Production
from .jobs import RenderFailure, RenderJobRow
from .ledger import Attestation, AttestationChallenge, ChallengeResolution, DesignSteward, LedgerReview
from .presets import ParameterSet

__all__ = [
    "ApiToken", "Artifact", "Attestation", "AttestationChallenge", "AuditEvent", "Author", "Base", "BomItem",
    "CacheGeneration",
    "ChallengeResolution", "Contribution", "Design", "DesignFile", "DesignSteward", "DesignVersion", "LedgerReview",
    "Lineage", "Maker", "Parameter", "ParameterSet", "Part", "Production", "RenderFailure", "RenderJobRow", "Tag",
    "User", "UserSession", "as_utc", "utcnow",
]

"""Makers who produce catalogue designs: their files, import, and listings.

A maker file is ``designs/makers/<maker-slug>.toml`` (format in README.md);
:mod:`.schema` validates it, :mod:`.loader` reads it and checks it against
the catalogue, :mod:`.importer` writes it, :mod:`.queries` reads it back (import it
explicitly: it builds on :mod:`..reciprocity`, which builds on :mod:`.schema`).
"""

from .importer import import_maker, import_makers, makers_dirs
from .loader import (MakerSource, load_maker_file, resolve_contribution, resolve_production, validate_attestation,
                     validate_contribution, validate_maker, validate_production)
from .schema import CONTRIBUTION_KINDS, LEGAL_FORMS, MakerFile

__all__ = [
    "CONTRIBUTION_KINDS",
    "LEGAL_FORMS",
    "MakerFile",
    "MakerSource",
    "import_maker",
    "import_makers",
    "load_maker_file",
    "makers_dirs",
    "resolve_contribution",
    "resolve_production",
    "validate_attestation",
    "validate_contribution",
    "validate_maker",
    "validate_production",
]

"""Design manifests: the schema of ``design.toml`` and the loader of design folders."""

from .loader import DesignFolder, content_hash, load_design_folder
from .schema import CATEGORIES, PROCESSES, DesignManifest, ParameterSpec, PartSpec

__all__ = [
    "CATEGORIES",
    "PROCESSES",
    "DesignFolder",
    "DesignManifest",
    "ParameterSpec",
    "PartSpec",
    "content_hash",
    "load_design_folder",
]

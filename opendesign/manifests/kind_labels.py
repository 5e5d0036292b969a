"""What a person is told about a version's model kind (the design page, the API, ``opendesign show``).

Read from the stored manifest only — its resolved ``kind`` and, for a static
design, the suffixes of its part files — so nothing of the design runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .kinds import BUILD123D, CADQUERY, CQGI, STATIC
from .schema import BREP_SUFFIXES, MESH_SUFFIXES


@dataclass(frozen=True)
class KindLabel:
    """A kind as shown to people: a short label and one line saying what it means for them."""

    kind: str
    label: str
    explanation: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


_CODE = {
    CADQUERY: ("Parametric CadQuery model",
               "model.py defines build(params) with CadQuery; every file is built from the parameters you choose."),
    CQGI: ("CadQuery script (CQGI, runs unchanged in CQ-editor)",
           "model.py is a plain CadQuery script: its top-level constants are the parameters, and it opens "
           "as it is in CQ-editor or cq-cli."),
    BUILD123D: ("build123d model",
                "model.py is written with build123d (Python CAD on the same OpenCascade kernel as CadQuery); "
                "every file is built from it with the parameters you choose."),
}


def _format(filename: str) -> str:
    suffix = filename.lower().rsplit(".", 1)[-1]
    return "STEP" if f".{suffix}" in BREP_SUFFIXES else suffix.upper()


def _static(manifest: dict) -> KindLabel:
    files = [str(p.get("file") or "") for p in manifest.get("parts", [])]
    brep = "STEP" if any(f.lower().endswith(BREP_SUFFIXES) for f in files) else ""
    meshes = list(dict.fromkeys(_format(f) for f in files if f.lower().endswith(MESH_SUFFIXES)))
    shown = "; ".join(filter(None, [brep, "mesh: " + ", ".join(meshes) if meshes else ""]))
    label = f"Part files ({shown})" if shown else "Part files"
    if meshes:
        why = ("a mesh holds triangles, not exact geometry, so there is no STEP download" if not brep else
               "the mesh parts hold triangles, not exact geometry, so there is no STEP download")
    else:
        why = "STEP holds the exact geometry, so every format is offered"
    return KindLabel(STATIC, label, f"Fixed part files listed in design.toml, not a parametric model: {why}.")


def kind_label(manifest: dict | None) -> KindLabel:
    """The label of the kind stored in *manifest* (``cadquery`` for one stored before kinds existed)."""
    manifest = manifest or {}
    kind = manifest.get("kind") or CADQUERY
    if kind == STATIC:
        return _static(manifest)
    label, explanation = _CODE.get(kind, (kind, f"Model kind {kind!r}."))
    return KindLabel(kind, label, explanation)

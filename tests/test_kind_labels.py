"""Kind labels are read from the stored manifest: the kind, and for part files their formats."""

from __future__ import annotations

from opendesign.manifests.kind_labels import kind_label


def _static(*files: str) -> dict:
    return {"kind": "static", "parts": [{"name": f"p{i}", "file": f} for i, f in enumerate(files)]}


def test_a_manifest_stored_before_kinds_is_a_cadquery_model():
    assert kind_label({"slug": "old"}).as_dict() == kind_label({"kind": "cadquery"}).as_dict()
    assert kind_label(None).label == "Parametric CadQuery model"


def test_part_file_formats_name_the_label():
    assert kind_label(_static("parts/a.STP", "parts/b.step")).label == "Part files (STEP)"
    assert kind_label(_static("a.stl", "b.3mf", "c.obj", "d.STL")).label == "Part files (mesh: STL, 3MF, OBJ)"
    mixed = kind_label(_static("frame.step", "cover.3mf"))
    assert mixed.label == "Part files (STEP; mesh: 3MF)"
    assert "no STEP download" in mixed.explanation


def test_each_code_kind_has_its_own_line():
    labels = {k: kind_label({"kind": k}) for k in ("cadquery", "cqgi", "build123d")}
    assert len({v.label for v in labels.values()}) == len({v.explanation for v in labels.values()}) == 3
    assert all(v.kind == k for k, v in labels.items())

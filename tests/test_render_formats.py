"""Formats, quality presets and mesh checks (no sandbox involved)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import trimesh

from renderers.errors import INVALID_GEOMETRY, INVALID_PARAMS, SANDBOX_FAILURE, RenderError
from renderers.formats import FORMATS, QUALITIES, get_format, get_quality, sanitise_svg
from renderers.keys import cache_key, renderer_versions
from renderers.meshes import Mesh, combined_stats, parse_stl


def box_stl(size=(10.0, 20.0, 30.0), offset=(0.0, 0.0, 0.0)) -> bytes:
    mesh = trimesh.creation.box(extents=size)
    mesh.apply_translation(np.array(size) / 2 + np.array(offset))
    return mesh.export(file_type="stl")


def test_registry_names_every_format_and_quality():
    assert set(FORMATS) == {"stl", "3mf", "glb", "step", "svg"}
    assert {f.kind for f in FORMATS.values()} == {"mesh", "shape"}
    assert list(QUALITIES) == ["draft", "normal", "fine"]
    tolerances = [QUALITIES[q].tolerance for q in QUALITIES]
    assert tolerances == sorted(tolerances, reverse=True)
    assert get_format(".STL").name == "stl"
    with pytest.raises(RenderError) as info:
        get_format("obj")
    assert info.value.category == INVALID_PARAMS
    with pytest.raises(RenderError):
        get_quality("ultra")


def test_parse_stl_measures_a_box():
    mesh = parse_stl(box_stl(), max_triangles=1000)
    stats = mesh.stats
    assert stats.triangles == 12
    assert stats.watertight is True
    assert stats.volume == pytest.approx(6000.0)
    assert stats.bbox == ((0.0, 0.0, 0.0), (10.0, 20.0, 30.0))


def test_parse_stl_refuses_bad_meshes():
    good = box_stl()
    with pytest.raises(RenderError) as info:
        parse_stl(good, max_triangles=11)
    assert info.value.category == INVALID_GEOMETRY and "limit" in info.value.message
    with pytest.raises(RenderError) as info:
        parse_stl(good[:80] + struct.pack("<I", 0), max_triangles=100)
    assert info.value.category == INVALID_GEOMETRY and "empty" in info.value.message
    with pytest.raises(RenderError) as info:
        parse_stl(good[:-10], max_triangles=100)
    assert info.value.category == SANDBOX_FAILURE
    with pytest.raises(RenderError):
        parse_stl(b"solid ascii\nendsolid\n", max_triangles=100)
    nan = bytearray(good)
    struct.pack_into("<f", nan, 84 + 12, float("nan"))
    with pytest.raises(RenderError) as info:
        parse_stl(bytes(nan), max_triangles=100)
    assert "non-finite" in info.value.message
    huge = bytearray(good)
    struct.pack_into("<f", huge, 84 + 12, 1e30)
    with pytest.raises(RenderError) as info:
        parse_stl(bytes(huge), max_triangles=100)
    assert "beyond" in info.value.message


def test_collapsed_triangles_are_dropped():
    stl = bytearray(box_stl())
    count = struct.unpack_from("<I", stl, 80)[0]
    first = stl[84:84 + 50]
    collapsed = first[:12] + first[12:24] * 2 + first[36:50]  # corners 1 and 2 equal
    data = bytes(stl[:80]) + struct.pack("<I", count + 1) + bytes(stl[84:]) + bytes(collapsed)
    mesh = parse_stl(data, max_triangles=100)
    assert len(mesh) == 12 and mesh.stats.watertight


def test_an_open_mesh_is_not_watertight():
    stl = box_stl()
    count = struct.unpack_from("<I", stl, 80)[0] - 1
    opened = stl[:80] + struct.pack("<I", count) + stl[84:84 + 50 * count]
    assert parse_stl(opened, max_triangles=100).stats.watertight is False


def test_mesh_formats_round_trip():
    a = parse_stl(box_stl(), max_triangles=100)
    b = parse_stl(box_stl((5, 5, 5), (50, 0, 0)), max_triangles=100)
    scene = [("body", a), ("lid", b)]
    stl = FORMATS["stl"].export(scene, "test")
    back = trimesh.load(io.BytesIO(stl), file_type="stl")
    assert len(back.faces) == 24 and back.volume == pytest.approx(6125.0)
    three = trimesh.load(io.BytesIO(FORMATS["3mf"].export(scene, "test")), file_type="3mf")
    assert sum(g.volume for g in three.geometry.values()) == pytest.approx(6125.0)
    glb = trimesh.load(io.BytesIO(FORMATS["glb"].export(scene, "test")), file_type="glb")
    dumped = glb.to_mesh()
    assert len(dumped.faces) == 24
    # glTF: metres, Y up — the 30 mm tall box (Z) stands 0.03 m tall along Y.
    assert dumped.bounds[1][1] == pytest.approx(0.03)
    assert combined_stats([a, b]).volume == pytest.approx(6125.0)


def test_step_envelope_is_checked():
    ok = b"ISO-10303-21;\nHEADER;\nENDSEC;\nEND-ISO-10303-21;\n"
    assert FORMATS["step"].export(ok) == ok
    with pytest.raises(RenderError):
        FORMATS["step"].export(b"ISO-10303-21;\nHEADER;")


SVG = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg xmlns:svg="http://www.w3.org/2000/svg" xmlns="http://www.w3.org/2000/svg" width="800.0" height="600.0">
  <!-- a comment -->
  <g transform="scale(1, -1)" stroke-width="0.1" fill="none">
    <g stroke="rgb(0,0,0)" fill="none"><path d="M1,2 L3,4 " /></g>
  </g>
</svg>"""


def test_svg_is_rebuilt_from_a_whitelist():
    out = sanitise_svg(SVG)
    assert b"<path" in out and b"comment" not in out
    assert b'viewBox="0 0 800.0 600.0"' in out


@pytest.mark.parametrize("evil", [
    SVG.replace(b"<path", b"<script>alert(1)</script><path"),
    SVG.replace(b'd="M1', b'onload="alert(1)" d="M1'),
    SVG.replace(b'fill="none">', b'fill="url(javascript:alert(1))">', 1),
    SVG.replace(b"<path", b'<image href="file:///etc/passwd"/><path'),
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    b"<svg><unclosed>",
])
def test_svg_with_anything_else_is_refused(evil):
    with pytest.raises(RenderError) as info:
        sanitise_svg(evil)
    assert info.value.category == INVALID_GEOMETRY


def test_cache_keys_depend_on_everything():
    base = ("a" * 64, '{"w":1}', "stl", "normal", None)
    key = cache_key(*base)
    assert len(key) == 64 and key == cache_key(*base)
    for i, other in enumerate(["b" * 64, '{"w":2}', "glb", "fine", "lid"]):
        changed = list(base)
        changed[i] = other
        assert cache_key(*changed) != key
    versions = renderer_versions()
    assert {"renderer", "cadquery", "ocp", "trimesh"} <= set(versions)
    assert versions["cadquery"] != "missing"


def test_mesh_holds_float32_triangles():
    mesh = Mesh(np.zeros((2, 3, 3)))
    assert mesh.triangles.dtype == np.float32 and len(mesh) == 2

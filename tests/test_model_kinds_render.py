"""Each model kind end to end through the real sandbox: import, render every format it offers, errors.

CQGI scripts and build123d code run in the confined workers; static part files
(STEP, STL, 3MF, OBJ) are read there too, after the cheap checks at import.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
import trimesh
from sqlalchemy import func, select

from opendesign.catalogue.importer import import_designs
from opendesign.config import load_settings
from opendesign.models import Design, DesignVersion
from renderers import service
from renderers.errors import INVALID_GEOMETRY, INVALID_PARAMS, SCRIPT_ERROR, RenderError
from renderers.pool import RenderJob, WarmPool

CQGI = '''length = 40.0
width = 10.0
holes = 2
body = cq.Workplane("XY").box(length, width, 5)
debug(body.faces(">Z"))
show_object(body, name="Main Body")
show_object(cq.Workplane("XY").sphere(3).translate((0, 30, 0)))
'''
CQGI_PARAMS = [{"name": "length", "type": "float", "default": 40.0, "min": 10.0, "max": 100.0, "label": "Length"}]
CQGI_PARTS = [{"name": "main_body", "material": "PLA", "process": "fdm"},
              {"name": "part_2", "material": "PLA", "process": "fdm"}]
BUILD123D = '''from build123d import Box, Cylinder, Pos


def build(params):
    return {"plate": Box(params["width"], 20, 4), "peg": Pos(0, 0, 6) * Cylinder(3, 8)}
'''
B123D_PARAMS = [{"name": "width", "type": "float", "default": 30.0, "min": 10.0, "max": 80.0, "label": "Width"}]


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    settings = load_settings(environ={}, home=str(tmp_path_factory.mktemp("kinds-pool")), render_pool_size=1,
                             render_timeout=60, render_cpu_seconds=60, render_memory_mb=3072)
    pool = WarmPool(settings)
    pool.start()
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def box_files():
    import cadquery as cq

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        shape = cq.Workplane("XY").box(20, 10, 5).val()
        shape.exportStep(f"{tmp}/box.step")
        shape.exportStl(f"{tmp}/box.stl", 0.1, 0.2, False)  # binary
        return {"step": Path(f"{tmp}/box.step").read_bytes(), "stl": Path(f"{tmp}/box.stl").read_bytes()}


def _import(db, path):
    report = import_designs(db, [path])
    assert report.ok, report.as_dict()["errors"]


def _static(make_design, slug, files: dict[str, bytes], parts=None):
    parts = parts or [{"name": name.split(".")[0].replace("-", "_"), "material": "PLA", "process": "fdm",
                       "file": name} for name in files]
    return make_design(slug, model=None, parameters=[], presets=[], parts=parts, extra_files=files)


def _size(info):
    (lo, hi) = info.bbox
    return [round(h - l, 3) for l, h in zip(lo, hi)]


def _counts(db):
    with db.session() as s:
        return s.scalar(select(func.count(Design.id))), s.scalar(select(func.count(DesignVersion.id)))


# -- CQGI -----------------------------------------------------------------------------------------

def test_cqgi_script_end_to_end(db, settings, make_design, pool):
    _import(db, make_design("cq-script", model=CQGI, parameters=CQGI_PARAMS, presets=[], parts=CQGI_PARTS))
    infos = service.render(db, settings, "cq-script", {}, ["stl", "3mf", "glb", "step", "svg"], pool=pool)
    by = {(i.format, i.part): i for i in infos}
    # show_object(name=...) names a part; an unnamed one is numbered; debug() output is not a part.
    assert {p for _, p in by if p} == {"main_body", "part_2"}
    assert _size(by[("stl", "main_body")]) == [40.0, 10.0, 5.0]
    assert all(i.bytes > 0 for i in infos)
    custom = service.render(db, settings, "cq-script", {"length": 70.0}, ["stl"], pool=pool)
    body = next(i for i in custom if i.part == "main_body")
    # The listed parameter changed; the unlisted `width` stayed at the script's default.
    assert _size(body) == [70.0, 10.0, 5.0]


def test_cqgi_script_is_stored_byte_for_byte(db, make_design):
    source = CQGI.replace("\n", "\r\n") + "# trailing comment without newline"
    _import(db, make_design("cq-bytes", model=None, parameters=CQGI_PARAMS, presets=[], parts=CQGI_PARTS,
                            extra_files={"model.py": source.encode()}))
    with db.session() as s:
        version = s.scalar(select(DesignVersion).join(Design, DesignVersion.design_id == Design.id)
                             .where(Design.slug == "cq-bytes"))
        assert version.file("model.py") == source.encode()
        assert version.manifest["kind"] == "cqgi"


def test_cqgi_result_fallback(db, settings, make_design, pool):
    script = "size = 12.0\nresult = cq.Workplane('XY').box(size, size, size)\n"
    params = [{"name": "size", "type": "float", "default": 12.0, "min": 1.0, "max": 50.0, "label": "Size"}]
    _import(db, make_design("cq-result", model=script, parameters=params, presets=[],
                            parts=[{"name": "cube", "material": "PLA", "process": "fdm"}]))
    (info,) = service.render(db, settings, "cq-result", {"size": 20.0}, ["stl"], pool=pool)
    assert _size(info) == [20.0, 20.0, 20.0] and info.watertight


def test_cqgi_show_object_of_nothing(db, settings, make_design, pool):
    script = "n = 1\nshow_object(cq.Workplane('XY'))\n"
    _import(db, make_design("cq-empty", model=script, parameters=[], presets=[],
                            parts=[{"name": "body", "material": "PLA", "process": "fdm"}]))
    with pytest.raises(RenderError) as info:
        service.render(db, settings, "cq-empty", {}, ["stl"], pool=pool)
    assert info.value.category == INVALID_GEOMETRY
    assert str(info.value).endswith("build()'s result is a Workplane holding no shape")


def test_cqgi_script_that_shows_nothing_in_the_sandbox(pool):
    # The loader refuses it at import; the sandbox says the same if such a script reaches it.
    with pytest.raises(RenderError) as info:
        pool.render(RenderJob(files={"model.py": b"x = 1\nbox = cq.Workplane().box(1, 1, 1)\n"}, params={},
                              kind="cqgi"))
    assert info.value.category == SCRIPT_ERROR
    assert str(info.value).endswith("the script showed nothing: it called no show_object(...) and assigned no "
                                    "top-level result")


def test_cqgi_parameter_not_in_script_in_the_sandbox(pool):
    with pytest.raises(RenderError) as info:
        pool.render(RenderJob(files={"model.py": CQGI.encode()}, params={"depth": 3.0}, kind="cqgi"))
    assert str(info.value).endswith("parameter(s) 'depth' given by design.toml are not parameters of the script "
                                    "(it has: holes, length, width)")


# -- build123d ------------------------------------------------------------------------------------

def test_build123d_module_end_to_end(db, settings, make_design, pool):
    parts = [{"name": "plate", "material": "PLA", "process": "fdm"}, {"name": "peg", "material": "PLA",
                                                                       "process": "fdm"}]
    _import(db, make_design("b3d-module", model=BUILD123D, parameters=B123D_PARAMS, presets=[], parts=parts))
    infos = service.render(db, settings, "b3d-module", {"width": 50.0}, ["stl", "3mf", "glb", "step", "svg"],
                           pool=pool)
    by = {(i.format, i.part): i for i in infos}
    assert _size(by[("stl", "plate")]) == [50.0, 20.0, 4.0]
    assert by[("stl", "peg")].watertight


def test_build123d_script(pool):
    script = b"from build123d import Box\nsize = 5.0\nshow_object(Box(size, size, size), name='cube')\n"
    out = pool.render(RenderJob(files={"model.py": script}, params={"size": 9.0}, kind="build123d"))
    mesh = trimesh.load(io.BytesIO(out.files["model.stl"].read_bytes()), file_type="stl")
    assert [round(x, 3) for x in mesh.extents] == [9.0, 9.0, 9.0]


# -- static ---------------------------------------------------------------------------------------

def test_static_step_renders_every_format(db, settings, make_design, pool, box_files):
    _import(db, _static(make_design, "step-part", {"frame.step": box_files["step"]}))
    infos = service.render(db, settings, "step-part", {}, ["stl", "3mf", "glb", "step", "svg"], pool=pool)
    assert {i.format for i in infos} == {"stl", "3mf", "glb", "step", "svg"}
    stl = next(i for i in infos if i.format == "stl")
    assert _size(stl) == [20.0, 10.0, 5.0] and stl.watertight


def test_static_stl_renders_mesh_formats_and_refuses_step(db, settings, make_design, pool, box_files):
    _import(db, _static(make_design, "stl-part", {"body.stl": box_files["stl"]}))
    infos = service.render(db, settings, "stl-part", {}, ["stl", "3mf", "glb", "svg"], pool=pool)
    stl = next(i for i in infos if i.format == "stl")
    assert _size(stl) == [20.0, 10.0, 5.0] and stl.watertight and stl.triangles == 12
    with pytest.raises(RenderError) as info:
        service.render(db, settings, "stl-part", {}, ["step"], pool=pool)
    assert info.value.category == INVALID_PARAMS
    assert str(info.value).endswith("stl-part@1.0.0 has no STEP: part(s) body are mesh files (STL, 3MF or OBJ), which "
                               "hold triangles, not the exact geometry STEP needs; download STL, 3MF or GLB instead")


def test_static_3mf_and_obj_parts(db, settings, make_design, pool, box_files):
    mesh = trimesh.load(io.BytesIO(box_files["stl"]), file_type="stl")
    files = {"lid.3mf": mesh.export(file_type="3mf"), "peg.obj": mesh.export(file_type="obj").encode()}
    _import(db, _static(make_design, "mesh-parts", files))
    infos = service.render(db, settings, "mesh-parts", {}, ["stl", "glb"], pool=pool)
    parts = {i.part: i for i in infos if i.format == "stl"}
    assert set(parts) == {None, "lid", "peg"}
    assert parts["lid"].triangles == 12 and parts["peg"].triangles == 12


def _stl_bytes(triangles: list[list[list[float]]], count: int | None = None) -> bytes:
    out = b"\0" * 80 + struct.pack("<I", len(triangles) if count is None else count)
    for tri in triangles:
        out += struct.pack("<12fH", 0, 0, 0, *[c for v in tri for c in v], 0)
    return out


TRI = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]


def test_stl_whose_header_lies_is_refused_at_import(db, make_design):
    before = _counts(db)
    report = import_designs(db, [_static(make_design, "lying-stl", {"body.stl": _stl_bytes([TRI, TRI], count=1000)})])
    assert report.as_dict()["errors"][0]["errors"] == [
        f"{make_design.root}/lying-stl/design.toml: parts[0].file: body.stl: the binary STL header says 1000 "
        "triangles (50084 bytes) but the file is 184 bytes (room for 2): truncated or not an STL"]
    assert _counts(db) == before


def test_stl_whose_header_lies_in_the_sandbox(pool):
    with pytest.raises(RenderError) as info:
        pool.render(RenderJob(files={"a.stl": _stl_bytes([TRI], count=7)}, params={}, kind="static",
                              part_files={"a": "a.stl"}))
    assert info.value.category == INVALID_GEOMETRY
    assert str(info.value).endswith("a.stl: the binary STL header says 7 triangles (434 bytes) but the file is 134 "
                                    "bytes (room for 1): truncated or not an STL")


def test_stl_with_nan(db, settings, make_design, pool):
    nan = float("nan")
    _import(db, _static(make_design, "nan-stl", {"body.stl": _stl_bytes([TRI, [[nan, 0, 0], [1, 1, 0], [0, 1, 1]]])}))
    with pytest.raises(RenderError) as info:
        service.render(db, settings, "nan-stl", {}, ["stl"], pool=pool)
    assert info.value.category == INVALID_GEOMETRY
    assert str(info.value).endswith("body.stl: 1 vertices are not finite numbers (NaN or infinity)")


def test_mesh_with_too_many_triangles(pool):
    with pytest.raises(RenderError) as info:
        pool.render(RenderJob(files={"a.stl": _stl_bytes([TRI] * 12)}, params={}, kind="static",
                              part_files={"a": "a.stl"}, max_triangles=10))
    assert str(info.value).endswith("a.stl: holds 12 triangles; the limit for a part is 10")


def test_degenerate_triangles_are_dropped_and_counted(pool, box_files):
    data = box_files["stl"]
    (count,) = struct.unpack_from("<I", data, 80)
    flat = struct.pack("<12fH", 0, 0, 0, *([1.0, 1.0, 1.0] * 3), 0)
    out = pool.render(RenderJob(files={"a.stl": data[:80] + struct.pack("<I", count + 1) + data[84:] + flat},
                                params={}, kind="static", part_files={"a": "a.stl"}))
    assert struct.unpack_from("<I", out.files["model.stl"].read_bytes(), 80)[0] == count
    assert "a.stl: 1 degenerate (zero-area) triangles dropped" in out.log


def test_step_that_does_not_parse(db, settings, make_design, pool):
    garbage = b"ISO-10303-21;\nHEADER;\nthis is not a step file at all\n"
    _import(db, _static(make_design, "bad-step", {"frame.step": garbage}))
    with pytest.raises(RenderError) as info:
        service.render(db, settings, "bad-step", {}, ["stl"], pool=pool)
    assert info.value.category == INVALID_GEOMETRY
    assert "frame.step: is not a STEP file that can be read" in str(info.value)


def test_step_without_its_header_is_refused_at_import(db, make_design):
    report = import_designs(db, [_static(make_design, "no-header", {"frame.step": b"solid nothing\n"})])
    assert report.as_dict()["errors"][0]["errors"] == [
        f"{make_design.root}/no-header/design.toml: parts[0].file: frame.step: is not a STEP file: it does not "
        "start with ISO-10303-21;"]


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("3D/3dmodel.model", b"\0" * (20 * 1024 * 1024))
    return buf.getvalue()


def test_3mf_zip_bomb_is_refused_at_import(db, make_design):
    bomb = _zip_bomb()
    before = _counts(db)
    report = import_designs(db, [_static(make_design, "bomb-3mf", {"lid.3mf": bomb})])
    limit = len(bomb) * 200
    assert report.as_dict()["errors"][0]["errors"] == [
        f"{make_design.root}/bomb-3mf/design.toml: parts[0].file: lid.3mf: would unpack to 20971520 bytes from "
        f"{len(bomb)} (limit {limit}): refused as a zip bomb"]
    assert _counts(db) == before


def test_3mf_zip_bomb_in_the_sandbox(pool):
    bomb = _zip_bomb()
    with pytest.raises(RenderError) as info:
        pool.render(RenderJob(files={"lid.3mf": bomb}, params={}, kind="static", part_files={"lid": "lid.3mf"}))
    assert str(info.value).endswith(f"lid.3mf: would unpack to 20971520 bytes from {len(bomb)} "
                                    f"(limit {len(bomb) * 200}): refused as a zip bomb")


def test_refused_cqgi_design_leaves_the_catalogue_as_it_was(db, make_design):
    before = _counts(db)
    params = [{"name": "depth", "type": "float", "default": 4.0, "label": "Depth"}]
    report = import_designs(db, [make_design("cq-refused", model=CQGI, parameters=params, presets=[],
                                             parts=CQGI_PARTS)])
    assert not report.ok
    assert _counts(db) == before

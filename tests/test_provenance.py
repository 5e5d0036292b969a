"""Provenance embedded in exported files and read back (renderers.provenance)."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import pytest

from renderers import provenance as P
from renderers.provenance import step
from tests.test_bundles_support import sample_exports, step_volume

PROV = P.Provenance(
    slug="rocket-stove", version="1.2.0", license="CERN-OHL-S-2.0 OR CC-BY-SA-4.0",
    title="Rocket Stove 'Mk II' — été", authors=("Åsa O'Neil", "Open Stoves Collective"),
    url="https://example.org/designs/rocket-stove/1.2.0",
    attribution="https://example.org/designs/rocket-stove/1.2.0#attribution", part="chamber",
)
FORMAT_OF = {"stl": "stl", "3mf": "3mf", "glb": "glb", "step": "step", "svg": "svg",
             "cq-3mf": "3mf", "cq-stl": "stl", "step-again": "step"}


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    return sample_exports()


@pytest.fixture(scope="module")
def embedded(samples) -> dict[str, bytes]:
    return {key: P.embed(data, FORMAT_OF[key], PROV) for key, data in samples.items()}


@pytest.mark.parametrize("key", sorted(FORMAT_OF))
def test_reads_back_slug_version_license(embedded, key):
    info = P.read_provenance(embedded[key])
    assert info["format"] == FORMAT_OF[key]
    assert (info["slug"], info["version"], info["license"]) == ("rocket-stove", "1.2.0", PROV.license)


@pytest.mark.parametrize("key", sorted(FORMAT_OF))
def test_embedding_is_idempotent(embedded, key):
    assert P.embed(embedded[key], FORMAT_OF[key], PROV) == embedded[key]


@pytest.mark.parametrize("key", ["3mf", "glb", "step", "svg", "cq-3mf"])
def test_rich_formats_carry_authors_and_attribution(embedded, key):
    info = P.read_provenance(embedded[key])
    assert info["authors"] == list(PROV.authors)
    if key not in ("glb",):
        assert info["attribution"] == PROV.attribution


def test_exporter_stamps_are_normalised(samples):
    """OCC's STEP date and product counter, trimesh's random 3MF UUIDs, CadQuery's 3MF dates."""
    again = sample_exports()
    for key in ("3mf", "cq-3mf"):
        assert samples[key] != again[key]  # the exporters really do stamp
        assert P.embed(samples[key], "3mf", PROV) == P.embed(again[key], "3mf", PROV)
    assert samples["step"] != samples["step-again"]
    assert P.embed(samples["step"], "step", PROV) == P.embed(samples["step-again"], "step", PROV)


def test_stl_header(embedded):
    data = embedded["stl"]
    header = data[:80]
    assert header.rstrip() == b"rocket-stove@1.2.0 CERN-OHL-S-2.0 OR CC-BY-SA-4.0"
    (count,) = struct.unpack_from("<I", data, 80)
    assert len(data) == 84 + 50 * count
    assert not header.lower().startswith(b"solid")  # readers would take it for ASCII STL


def test_stl_header_truncates_the_license_not_the_reference(samples):
    long = P.Provenance(slug="rainwater-first-flush-diverter-screened", version="10.20.30-rc.1",
                        license="CERN-OHL-S-2.0 AND (CC-BY-SA-4.0 OR GPL-3.0-or-later) AND CC-BY-4.0")
    data = P.embed(samples["stl"], "stl", long)
    assert len(data) == len(samples["stl"]) and data[80:] == samples["stl"][80:]
    info = P.read_provenance(data)
    assert (info["slug"], info["version"]) == (long.slug, long.version)
    assert info["truncated"] and long.license.startswith(info["license"][:-3])


def test_stl_header_never_starts_with_solid(samples):
    data = P.embed(samples["stl"], "stl", P.Provenance(slug="solid-waste-sorter", version="1.0.0", license="CC0-1.0"))
    assert not data[:5].lower().startswith(b"solid")
    assert P.read_provenance(data)["slug"] == "solid-waste-sorter"


def test_3mf_metadata_and_zip(embedded):
    from lxml import etree

    archive = zipfile.ZipFile(io.BytesIO(embedded["3mf"]))
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    root = etree.fromstring(archive.read("3D/3dmodel.model"))
    meta = {el.get("name"): el.text for el in root if etree.QName(el).localname == "metadata"}
    for name in ("Title", "Designer", "Description", "Copyright", "LicenseTerms"):
        assert meta[name], name
    assert meta["LicenseTerms"] == PROV.license
    assert "Åsa O'Neil" in meta["Designer"] and "rocket-stove@1.2.0" in meta["Title"]
    assert "CreationDate" not in meta
    # metadata precedes resources, as the 3MF core schema requires
    names = [etree.QName(el).localname for el in root]
    assert names.index("resources") > max(i for i, n in enumerate(names) if n == "metadata")


def test_glb_chunks_stay_valid(samples, embedded):
    data = embedded["glb"]
    magic, version, length = struct.unpack_from("<4sII", data)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_len, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_len % 4 == 0
    gltf = json.loads(data[20:20 + json_len])
    assert "CERN-OHL-S-2.0" in gltf["asset"]["copyright"]
    assert gltf["asset"]["extras"]["opendesign"]["slug"] == "rocket-stove"
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + json_len)
    assert bin_type == 0x004E4942
    original_json_len = struct.unpack_from("<I", samples["glb"], 12)[0]
    assert data[28 + json_len:] == samples["glb"][28 + original_json_len:]  # binary chunk untouched


def test_step_header(embedded):
    text = embedded["step"].decode("latin-1")
    header = text[:text.index("ENDSEC;")]
    assert "'1980-01-01T00:00:00'" in header
    assert "Open CASCADE STEP translator" not in text
    info = P.read_provenance(embedded["step"])
    assert info["title"] == PROV.title
    assert info["part"] == "chamber"
    assert info["organization"][0] == "opendesign"


def test_parameters_travel_with_the_file(samples):
    custom = P.Provenance(slug="x", version="1.0.0", license="CC0-1.0", parameters={"width": 35.5, "holes": 3})
    for key in ("3mf", "glb", "step"):
        info = P.read_provenance(P.embed(samples[key], key, custom))
        assert info["parameters"] == {"width": 35.5, "holes": 3}


def test_readers_still_load_the_files(samples, embedded):
    trimesh = pytest.importorskip("trimesh")
    for key, file_type in (("stl", "stl"), ("3mf", "3mf"), ("glb", "glb"), ("cq-3mf", "3mf"), ("cq-stl", "stl")):
        before = trimesh.load(io.BytesIO(samples[key]), file_type=file_type, force="mesh")
        after = trimesh.load(io.BytesIO(embedded[key]), file_type=file_type, force="mesh")
        assert len(after.faces) == len(before.faces) > 0, key
        assert after.is_watertight, key
    assert step_volume(embedded["step"]) == pytest.approx(step_volume(samples["step"]), rel=1e-9)


def test_files_without_provenance_and_garbage(samples):
    assert "slug" not in P.read_provenance(samples["stl"])
    assert "slug" not in P.read_provenance(samples["glb"])
    with pytest.raises(P.ProvenanceError):
        P.read_provenance(b"definitely not a mesh")
    with pytest.raises(P.ProvenanceError):
        P.embed(b"\x00" * 10, "stl", PROV)
    with pytest.raises(P.ProvenanceError):
        P.embed(samples["stl"], "obj", PROV)


def test_step_strings_round_trip():
    for text in ("plain", "it's", "back\\slash", "Ünïcödé ✓", "emoji 🌞", ""):
        assert step.parse_params(f"({step.step_string(text)})") == [text]


def test_provenance_command(runner, tmp_path, embedded, samples):
    from opendesign.cli import main

    path = tmp_path / "chamber.3mf"
    path.write_bytes(embedded["3mf"])
    result = runner.invoke(main, ["provenance", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["slug"] == "rocket-stove"
    result = runner.invoke(main, ["provenance", str(path)])
    assert "license:     CERN-OHL-S-2.0 OR CC-BY-SA-4.0" in result.output
    bare = tmp_path / "bare.stl"
    bare.write_bytes(samples["stl"])
    result = runner.invoke(main, ["provenance", str(bare)])
    assert result.exit_code == 1 and "no opendesign provenance" in result.output
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"junk")
    assert runner.invoke(main, ["provenance", str(junk)]).exit_code == 1

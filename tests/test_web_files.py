"""``/files/<sha256>.<ext>``: content-addressed downloads from the render cache, and path tricks."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from opendesign.models import DesignVersion
from tests.web_support import *  # noqa: F403

CONTENT_TYPES = {"stl": "model/stl", "3mf": "model/3mf", "glb": "model/gltf-binary", "step": "model/step",
                 "svg": "image/svg+xml"}


@pytest.fixture
def stored(app, db, make_design):
    """One cached artifact per format for widget@1.0.0 (bytes put straight into the render cache)."""
    from renderers.cache import ArtifactMeta

    import_folder_paths(db, make_design("widget"))
    with db.session() as s:
        version_id = s.scalar(select(DesignVersion.id))
    store = app.extensions["opendesign.render"].store
    out = {}
    for i, fmt in enumerate(CONTENT_TYPES):
        data = f"{fmt} bytes {i}".encode() * 10
        key = hashlib.sha256(f"key-{fmt}".encode()).hexdigest()
        part = "body" if fmt == "3mf" else None
        store.put(key, data, ArtifactMeta(format=fmt, quality="normal", part=part, version_id=version_id))
        out[fmt] = (hashlib.sha256(data).hexdigest(), data, key)
    return out


@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
def test_file_is_served_immutable_with_strong_etag(client, stored, fmt):
    sha, data, _ = stored[fmt]
    r = client.get(f"/files/{sha}.{fmt}")
    assert r.status_code == 200
    assert r.data == data
    assert r.headers["Content-Type"].split(";")[0] == CONTENT_TYPES[fmt]
    assert r.headers["ETag"] == f'"{sha}"'  # strong: no W/ prefix
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    expected = "widget-1.0.0-body.3mf" if fmt == "3mf" else f"widget-1.0.0.{fmt}"
    disposition = "inline" if fmt == "svg" else "attachment"
    assert r.headers["Content-Disposition"] == f"{disposition}; filename={expected}"
    again = client.get(f"/files/{sha}.{fmt}", headers={"If-None-Match": f'"{sha}"'})
    assert again.status_code == 304


def test_corrupted_cache_entry_is_not_served(client, app, stored):
    sha, _, key = stored["stl"]
    path = app.extensions["opendesign.render"].store.path(key, "stl")
    path.write_bytes(b"X" * path.stat().st_size)  # same size, other bytes
    assert client.get(f"/files/{sha}.stl").status_code == 404


@pytest.mark.parametrize("url", [
    "/files/../../etc/passwd",
    "/files/..%2F..%2Fetc%2Fpasswd",
    "/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/files/..%5c..%5cetc%5cpasswd",
    "/files/" + "0" * 64 + ".stl",
    "/files/" + "0" * 64 + ".exe",
    "/files/" + "A" * 64 + ".stl",
    "/files/" + "0" * 63 + ".stl",
    "/files/" + "0" * 64 + ".stl/../../etc/passwd",
    "/files/" + "0" * 64 + ".stl%00.txt",
    "/files/",
    "/files/etc/passwd",
])
def test_path_tricks_and_unknown_hashes_are_404(client, url):
    assert client.get(url).status_code == 404


def test_a_known_hash_with_the_wrong_extension_is_404(client, stored):
    sha, _, _ = stored["stl"]
    assert client.get(f"/files/{sha}.glb").status_code == 404

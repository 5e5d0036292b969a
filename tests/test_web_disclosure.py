"""What a refused request costs and tells: scopes are checked before unpacking; no error shows a server path."""

from __future__ import annotations

import shutil
import zipfile

import pytest
import tomli_w

from tests.conftest import MODEL_SOURCE, design_manifest
from tests.web_support import *  # noqa: F403
from web.redact import redact


def _files(slug: str = "widget") -> dict[str, bytes]:
    return {"design.toml": tomli_w.dumps(design_manifest(slug)).encode(), "model.py": MODEL_SOURCE.encode(),
            "README.md": b"# Widget\n"}


def _with_corrupt_entry(files: dict[str, bytes], prefix: str = "widget") -> bytes:
    """A zip whose README's checksum is wrong: unpacking it is refused (400), reading the manifest is not."""
    data = bytearray(zip_entries([(f"{prefix}/{k}", v) for k, v in files.items()], compression=zipfile.ZIP_STORED))
    at = data.find(b"# Widget")
    data[at:at + 8] = b"# Wodget"
    return bytes(data)


def _api(client, token, data):
    return client.post("/api/v1/designs", data=data, content_type="application/zip",
                       headers={"Authorization": f"Bearer {token}"})


def test_a_token_for_another_design_is_refused_before_anything_is_unpacked(client, db, user, settings):
    token = make_token(db, user, ["publish:other-design"])
    r = _api(client, token, _with_corrupt_entry(_files()))
    assert r.status_code == 403, r.get_json()
    assert "publish:widget" in r.get_json()["error"]["message"]
    assert not (settings.home / "uploads").exists()  # no temporary folder was even made
    # The same zip with the right scope gets as far as unpacking, which finds the corrupt entry.
    good = make_token(db, user, ["publish:widget"], name="right")
    r = _api(client, good, _with_corrupt_entry(_files()))
    assert r.status_code == 400 and "checksum" in r.get_json()["error"]["message"]


def test_a_scoped_token_with_an_unreadable_manifest_is_refused_before_unpacking(client, db, user, settings):
    token = make_token(db, user, ["publish:widget"])
    files = {**_files(), "design.toml": b"slug = [[[\n"}
    r = _api(client, token, zip_entries([(f"widget/{k}", v) for k, v in files.items()]))
    assert r.status_code == 422
    assert "design.toml" in " ".join(r.get_json()["error"]["fields"]) or "design.toml" in r.get_json()["error"]["message"]
    assert not (settings.home / "uploads").exists()


def test_redact_cuts_server_paths_to_their_last_component(app, settings):
    with app.app_context():
        home = str(settings.home.resolve())
        assert redact(f"cannot open {home}/uploads/publish-x/_upload/widget/design.toml: denied") == \
            "cannot open design.toml: denied"
        assert redact('File "/jobs/job-1-ab12/in/model.py", line 3, in build') == 'File "model.py", line 3, in build'
        assert redact("see https://example.org/a/b and widget@1.0.0") == "see https://example.org/a/b and widget@1.0.0"


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="renders in the sandbox")
def test_render_errors_show_no_server_path(client, db, user, settings):
    failing = MODEL_SOURCE.replace('return cq.Workplane("XY")', 'import os\n    open(os.path.join(os.getcwd(), '
                                   '"missing", "deeper.txt"))\n    return cq.Workplane("XY")')
    files = {**_files("leaky"), "model.py": failing.encode()}
    token = make_token(db, user, ["publish:*"])
    assert _api(client, token, zip_entries([(f"leaky/{k}", v) for k, v in files.items()])).status_code == 201
    r = client.get("/api/v1/designs/leaky/render?format=stl&wait=60")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "deeper.txt" in text and "model.py" in text  # the reason survives...
    for path in ("/jobs/", "/in/", str(settings.home), "/tmp/", "/root/", "site-packages"):
        assert path not in text, f"{path!r} in {text}"  # ...the paths do not
    page = client.get("/designs/leaky?width=21").get_data(as_text=True)
    assert "deeper.txt" in page and "/jobs/" not in page and str(settings.home) not in page

"""Publishing zips (form and API), hostile zips, tokens and scopes, conflicts, forks, and the audit trail."""

from __future__ import annotations

import io
import re
import threading
import zipfile

import pytest
import tomli_w

from opendesign.publish import UnsafeArchive, UploadLimits, extract_archive
from tests.conftest import MODEL_SOURCE, design_manifest
from tests.web_support import *  # noqa: F403


def _design_zip(slug="widget", prefix=None, **overrides) -> bytes:
    files = {"design.toml": tomli_w.dumps(design_manifest(slug, **overrides)).encode(),
             "model.py": MODEL_SOURCE.encode(), "README.md": b"# Widget\n\nPrint flat.\n"}
    prefix = slug if prefix is None else prefix
    return zip_entries([(f"{prefix}/{k}" if prefix else k, v) for k, v in files.items()])


def _publish_form(client, data: bytes, filename="widget.zip"):
    token = csrf_token(client, "/publish")
    return client.post("/publish", data={"csrf_token": token, "archive": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _api_publish(client, token: str, data: bytes):
    return client.post("/api/v1/designs", data=data, content_type="application/zip",
                       headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def uploads(settings):
    return settings.home / "uploads"


def _nothing_written(db, before, uploads):
    assert counts(db) == before
    assert not uploads.exists() or list(uploads.iterdir()) == []


# -- the form ---------------------------------------------------------------------------------

def test_publish_through_the_form(logged_in, db, user):
    r = _publish_form(logged_in, _design_zip())
    assert r.status_code == 302 and r.headers["Location"] == "/designs/widget/1.0.0"
    page = logged_in.get("/designs/widget/1.0.0").get_data(as_text=True)
    assert "Published widget@1.0.0." in page and "published by <strong>ada</strong>" in page
    events = audit_events(db, "publish")
    assert [(e.outcome, e.target, e.user_id) for e in events] == [("ok", "widget@1.0.0", user.id)]


def test_publish_files_at_the_zip_top_level(logged_in):
    r = _publish_form(logged_in, _design_zip(prefix=""))
    assert r.status_code == 302


def test_publish_requires_login(client):
    r = client.get("/publish")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


def test_invalid_manifest_shows_errors_next_to_the_field(logged_in, db, uploads):
    before = counts(db)
    r = _publish_form(logged_in, _design_zip(version="one", category="space"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "<code>widget/design.toml: version</code>: &#39;one&#39; is not a semantic version" in html
    assert "<code>widget/design.toml: category</code>:" in html
    _nothing_written(db, before, uploads)
    assert audit_events(db, "publish")[-1].outcome == "refused"


def test_new_version_then_immutable_version(logged_in, db):
    assert _publish_form(logged_in, _design_zip()).status_code == 302
    assert _publish_form(logged_in, _design_zip(version="1.1.0")).status_code == 302
    # Same version, same content: a no-op.
    r = _publish_form(logged_in, _design_zip())
    assert r.status_code == 302
    assert "already published with exactly this content" in logged_in.get(r.headers["Location"]).get_data(as_text=True)
    # Same version, other content: refused.
    r = _publish_form(logged_in, _design_zip(summary="A different summary for the same version number."))
    assert r.status_code == 409
    assert "version: 1.0.0 is already published with different content" in r.get_data(as_text=True)
    assert "bump the version (e.g. to 1.0.1)" in r.get_data(as_text=True)


def test_slug_of_another_user_is_a_conflict(client, db, user, other_user):
    login_as(client, user)
    assert _publish_form(client, _design_zip()).status_code == 302
    login_as(client, other_user)
    r = _publish_form(client, _design_zip(version="2.0.0"))
    assert r.status_code == 409
    assert "the slug &#39;widget&#39; belongs to another designer" in r.get_data(as_text=True)


def test_seed_design_cannot_be_overwritten_from_an_account(logged_in, db, make_design):
    import_folder_paths(db, make_design("widget"))
    r = _publish_form(logged_in, _design_zip(version="1.1.0"))
    assert r.status_code == 409
    assert "is maintained in the catalogue&#39;s designs/ folder" in r.get_data(as_text=True)


# -- hostile zips -----------------------------------------------------------------------------

def test_upload_over_the_size_limit_is_413(app, logged_in, db, uploads):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    before = counts(db)
    r = _publish_form(logged_in, b"PK" + b"\0" * (100 * 1024))
    assert r.status_code == 413
    assert "the upload is larger than the limit of 0 MiB" in r.get_data(as_text=True) or r.status_code == 413
    _nothing_written(db, before, uploads)


def test_api_upload_over_the_size_limit_is_413(app, client, db, user):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    token = make_token(db, user, ["publish:*"])
    r = _api_publish(client, token, b"\0" * (2 * 1024 * 1024))
    assert r.status_code == 413
    assert r.json["error"] == {"status": 413, "message": "the upload is larger than the limit of 1 MiB"}


def _many_entries(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"d/{i}", b"")
    return buf.getvalue()


def _bomb(size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("widget/design.toml", b"a" * 10)
        with zf.open("widget/model.py", "w", force_zip64=True) as f:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                f.write(chunk)
    return buf.getvalue()


def _lying_header() -> bytes:
    """A zip whose central directory claims 100 bytes for a file that inflates to 5 MiB."""
    data = bytearray(zip_entries([("widget/model.py", b"\0" * (5 * 1024 * 1024))]))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (100).to_bytes(4, "little")  # uncompressed size in the central directory
    lh = data.find(b"PK\x03\x04")
    data[lh + 22:lh + 26] = (100).to_bytes(4, "little")
    return bytes(data)


HOSTILE = {
    "dot-dot": (lambda: zip_entries([("widget/design.toml", b"x"), ("../evil.py", b"x")]),
                "zip entry '../evil.py' has a '..' path component that escapes the folder; nothing was written"),
    "nested-dot-dot": (lambda: zip_entries([("widget/../../evil.py", b"x")]),
                       "zip entry 'widget/../../evil.py' has a '..' path component that escapes the folder; "
                       "nothing was written"),
    "absolute": (lambda: zip_entries([("/etc/cron.d/evil", b"x")]),
                 "zip entry '/etc/cron.d/evil' is an absolute path; nothing was written"),
    "windows-absolute": (lambda: zip_entries([("C:/evil", b"x")]),
                         "zip entry 'C:/evil' is an absolute path; nothing was written"),
    "backslash": (lambda: zip_entries([("..\\evil", b"x")]),
                  "zip entry '..\\\\evil' uses backslashes in its path; nothing was written"),
    "symlink": (lambda: zip_entries([(symlink_info("widget/README.md"), b"/etc/passwd")]),
                "zip entry 'widget/README.md' is a symbolic link; nothing was written"),
    "100k-entries": (lambda: _many_entries(100_000), "the zip has 100000 entries; the limit is 1000"),
    "bomb-ratio": (lambda: _bomb(8 * 1024 * 1024),
                   "zip entry 'widget/model.py' has a compression ratio of"),
    "bomb-size": (lambda: _bomb(64 * 1024 * 1024),
                  "zip entry 'widget/model.py' expands to 67108864 bytes; the limit per file is 10485760; "
                  "nothing was written"),
    "lying-header": (_lying_header, "zip entry 'widget/model.py' does not match its declared size and checksum "
                                    "(corrupt, or a disguised decompression bomb); nothing was written"),
    "not-a-zip": (lambda: b"this is not a zip file at all",
                  "not a valid zip archive (File is not a zip file); nothing was written"),
    "empty": (lambda: zip_entries([]), "the zip holds no files"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_zip_is_refused_with_the_reason_through_the_form(logged_in, db, uploads, name):
    build, reason = HOSTILE[name]
    before = counts(db)
    r = _publish_form(logged_in, build())
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    from markupsafe import escape

    assert str(escape(reason)) in html
    _nothing_written(db, before, uploads)
    event = audit_events(db, "publish")[-1]
    assert event.outcome == "refused" and reason in event.detail["reason"]


@pytest.mark.parametrize("name", ["dot-dot", "symlink", "100k-entries", "bomb-ratio", "lying-header"])
def test_hostile_zip_is_refused_with_the_reason_through_the_api(client, db, user, uploads, name):
    build, reason = HOSTILE[name]
    token = make_token(db, user, ["publish:*"])
    before = counts(db)
    r = _api_publish(client, token, build())
    assert r.status_code == 400
    assert r.json["error"]["status"] == 400 and reason in r.json["error"]["message"]
    _nothing_written(db, before, uploads)


def test_bomb_ratio_message_is_exact():
    with pytest.raises(UnsafeArchive) as exc:
        extract_archive(_bomb(8 * 1024 * 1024), None, UploadLimits())
    assert re.fullmatch(r"zip entry 'widget/model.py' has a compression ratio of \d+:1 \(limit 100:1\): refused as "
                        r"a decompression bomb; nothing was written", str(exc.value))


def test_extraction_never_writes_outside(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafeArchive):
        extract_archive(zip_entries([("a/design.toml", b"x"), ("a/../../x", b"x")]), dest)
    assert not (tmp_path / "x").exists() and list(dest.iterdir()) == []


# -- the API, tokens and scopes ---------------------------------------------------------------

def test_api_publish_with_a_token(client, db, user):
    token = make_token(db, user, ["publish:widget"])
    r = _api_publish(client, token, _design_zip())
    assert r.status_code == 201
    assert r.json["slug"] == "widget" and r.json["version"] == "1.0.0" and r.json["status"] == "created"
    r = _api_publish(client, token, _design_zip())
    assert r.status_code == 200 and r.json["status"] == "unchanged"
    actions = [(e.action, e.outcome) for e in audit_events(db)]
    assert actions == [("token.use", "ok"), ("publish", "ok"), ("token.use", "ok"), ("publish", "ok")]


def test_api_publish_multipart(client, db, user):
    token = make_token(db, user, ["publish:*"])
    r = client.post("/api/v1/designs", data={"file": (io.BytesIO(_design_zip()), "w.zip")},
                    headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    assert r.status_code == 201


def test_token_scoped_to_another_design_is_403_and_audited(client, db, user, uploads):
    token = make_token(db, user, ["publish:other-design"])
    before = counts(db)
    r = _api_publish(client, token, _design_zip())
    assert r.status_code == 403
    assert r.json["error"]["message"].startswith("token od_")
    assert r.json["error"]["message"].endswith("is not scoped for publish:widget (its scopes: publish:other-design)")
    _nothing_written(db, before, uploads)
    refusal = audit_events(db, "publish")[-1]
    assert refusal.outcome == "refused" and refusal.user_id == user.id and refusal.token_id is not None
    assert refusal.detail["status"] == 403


def test_makers_scope_cannot_publish(client, db, user):
    token = make_token(db, user, ["makers:acme"])
    assert _api_publish(client, token, _design_zip()).status_code == 403


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer od_" + "x" * 43])
def test_api_publish_without_a_valid_token_is_401(client, db, header):
    headers = {"Authorization": header} if header else {}
    r = client.post("/api/v1/designs", data=_design_zip(), content_type="application/zip", headers=headers)
    assert r.status_code == 401
    assert r.json["error"]["message"] == "a valid API token is required (Authorization: Bearer od_...)"
    assert audit_events(db, "token.use")[-1].outcome == "refused"


def test_api_publish_is_csrf_exempt_but_needs_the_token(client, db, user):
    login_as(client, user)  # a browser session alone does not authorise the API
    r = client.post("/api/v1/designs", data=_design_zip(), content_type="application/zip")
    assert r.status_code == 401


def test_duplicate_publish_by_two_users_at_once(app, db, user, other_user):
    tokens = [make_token(db, user, ["publish:*"]), make_token(db, other_user, ["publish:*"])]
    data = [_design_zip(), _design_zip(summary="The other user's widget, published at the same time.")]
    barrier = threading.Barrier(2)
    statuses: list[int] = [0, 0]
    bodies: list[dict] = [{}, {}]

    def publish(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        r = _api_publish(client, tokens[i], data[i])
        statuses[i], bodies[i] = r.status_code, r.json

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [201, 409], (statuses, bodies)
    loser = bodies[statuses.index(409)]
    assert loser["error"]["message"] in (
        "the slug 'widget' belongs to another designer; choose another slug, or fork their design",
        "widget@1.0.0 was published concurrently by another request; try again")
    assert counts(db)["Design"] == 1


# -- forks ------------------------------------------------------------------------------------

def _fork(client, slug, version, data):
    url = f"/designs/{slug}/{version}/fork"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def test_fork_creates_a_derivative_owned_by_the_user(logged_in, db, make_design, user):
    import_folder_paths(db, make_design("widget"))
    r = _fork(logged_in, "widget", "1.0.0", {"slug": "widget-xl", "title": "Widget XL", "license": ""})
    assert r.status_code == 302 and r.headers["Location"] == "/designs/widget-xl/0.1.0"
    detail = logged_in.get("/api/v1/designs/widget-xl").json
    assert detail["derived_from"] == ["widget@1.0.0"] and detail["license"] == "CERN-OHL-S-2.0"
    assert detail["title"] == "Widget XL"
    assert [(e.action, e.outcome) for e in audit_events(db, "fork")] == [("fork", "ok")]


def test_fork_with_a_license_the_parent_forbids_is_refused(logged_in, db, make_design):
    import_folder_paths(db, make_design("widget"))
    r = _fork(logged_in, "widget", "1.0.0", {"slug": "widget-mit", "title": "", "license": "MIT"})
    assert r.status_code == 422
    assert "license MIT is not allowed for a fork of widget@1.0.0" in r.get_data(as_text=True)
    assert counts(db)["Design"] == 1
    assert audit_events(db, "fork")[-1].outcome == "refused"


def test_fork_of_a_no_derivatives_design_is_refused(logged_in, db, make_design):
    import_folder_paths(db, make_design("nd-widget", license="CC-BY-ND-4.0"))
    page = logged_in.get("/designs/nd-widget/1.0.0/fork").get_data(as_text=True)
    assert "This design cannot be forked" in page
    r = _fork(logged_in, "nd-widget", "1.0.0", {"slug": "nd-copy", "title": "", "license": ""})
    assert r.status_code == 422
    assert "nd-widget@1.0.0 cannot be forked" in r.get_data(as_text=True)


def test_fork_to_a_taken_slug_is_a_conflict(logged_in, db, make_design):
    import_folder_paths(db, make_design("widget"), make_design("gadget"))
    r = _fork(logged_in, "widget", "1.0.0", {"slug": "gadget", "title": "", "license": ""})
    assert r.status_code == 409
    assert "the slug &#39;gadget&#39; is taken; choose another" in r.get_data(as_text=True)

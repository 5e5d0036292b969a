"""The web layer's caches never show stale catalogue data: each change that commits shows on the next request."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from opendesign.models import DesignVersion
from tests.web_support import *  # noqa: F403

MAKER = """slug = "bench-coop"
name = "Bench Cooperative"
legal_form = "worker-cooperative"
country = "PT"

[[productions]]
design = "widget@1.0.0"
modified = false
attribution = true

[[contributions]]
design = "widget"
kind = "hours"
amount = 4.0
date = 2026-05-03
evidence = "https://git.example/widget/pulls/2"
"""


@pytest.fixture
def widget(db, make_design):
    import_folder_paths(db, make_design("widget"))
    return "widget"


def test_a_new_version_shows_after_import(client, db, make_design, widget):
    assert "<strong>1.0.0</strong>" in client.get("/designs/widget").get_data(as_text=True)  # cached now
    import_folder_paths(db, make_design("widget", version="1.1.0", title="Widget, improved"))
    html = client.get("/designs/widget").get_data(as_text=True)
    assert "<h1>Widget, improved</h1>" in html and "<strong>1.1.0</strong>" in html
    old = client.get("/designs/widget/1.0.0").get_data(as_text=True)
    assert "This is an older version." in old


def test_a_new_maker_production_and_contribution_show_after_import(client, db, tmp_path, widget):
    from opendesign.commons.makers.importer import import_makers

    assert "No maker has registered a production" in client.get("/designs/widget").get_data(as_text=True)
    (tmp_path / "bench-coop.toml").write_text(MAKER)
    assert import_makers(db, [tmp_path / "bench-coop.toml"]).ok
    html = client.get("/designs/widget").get_data(as_text=True)
    assert "Bench Cooperative" in html
    assert "0 of 1 producing maker(s) give back" in html and "Claimed, awaiting a steward" in html
    # a review committed elsewhere (the operator's CLI) shows on the next request too
    from opendesign.commons.ledger import review
    from opendesign.models import Contribution

    with db.session() as s:
        review.confirm(s, s.scalar(select(Contribution)), operator=True, via="cli")
    assert "1 of 1 producing maker(s) give back" in client.get("/designs/widget").get_data(as_text=True)


def test_a_new_derivative_shows_in_its_parents_lineage(client, db, make_design):
    import_folder_paths(db, make_design("base-part"))
    assert "An original design" in client.get("/designs/base-part").get_data(as_text=True)
    import_folder_paths(db, make_design("child-part", derived_from=["base-part@1.0.0"]))
    html = client.get("/designs/base-part").get_data(as_text=True)
    assert '<a href="/designs/child-part/1.0.0" class="node">' in html


def test_a_design_nobody_produces_has_the_reciprocity_the_commons_layer_computes(app, db, widget):
    from opendesign.commons.reciprocity import design_reciprocity
    from web import pagecache

    from opendesign.commons.ledger.reports import design_ledger

    with db.session() as s:
        assert pagecache._no_reciprocity("widget") == design_reciprocity(s, "widget")
        assert pagecache._no_ledger("widget") == design_ledger(s, "widget")


def test_a_verified_file_changed_on_disk_is_checked_again(client, app, db, widget):
    from renderers.cache import ArtifactMeta

    with db.session() as s:
        version_id = s.scalar(select(DesignVersion.id))
    store = app.extensions["opendesign.render"].store
    data = b"solid widget\nendsolid widget\n" * 10
    key = hashlib.sha256(b"key-caching").hexdigest()
    store.put(key, data, ArtifactMeta(format="stl", quality="normal", part=None, version_id=version_id))
    sha = hashlib.sha256(data).hexdigest()
    for _ in range(2):  # the second request takes the fast path
        r = client.get(f"/files/{sha}.stl")
        assert r.status_code == 200 and r.data == data
        assert r.headers["ETag"] == f'"{sha}"'
        assert r.headers["Content-Disposition"] == "attachment; filename=widget-1.0.0.stl"
    assert client.get(f"/files/{sha}.stl", headers={"If-None-Match": f'"{sha}"'}).status_code == 304
    assert client.head(f"/files/{sha}.stl").headers["Content-Length"] == str(len(data))
    path = store.path(key, "stl")
    path.write_bytes(b"X" * len(data))  # same size, other bytes, newer mtime
    assert client.get(f"/files/{sha}.stl").status_code == 404
    path.unlink(missing_ok=True)
    assert client.get(f"/files/{sha}.stl").status_code == 404


def test_search_and_home_show_a_new_design_after_import(client, db, make_design, widget):
    assert "/designs/gizmo/1.0.0" not in client.get("/search?q=gizmo").get_data(as_text=True)  # cached now
    assert "/designs/gizmo/1.0.0" not in client.get("/").get_data(as_text=True)
    import_folder_paths(db, make_design("gizmo", title="Gizmo holder"))
    assert "/designs/gizmo/1.0.0" in client.get("/search?q=gizmo").get_data(as_text=True)
    assert "/designs/gizmo/1.0.0" in client.get("/").get_data(as_text=True)

"""Publishing a zip of every model kind through the form and the API: page, search, refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.web_support import *  # noqa: F403

SEEDS = Path(__file__).resolve().parent.parent / "designs"
KINDS = {"seed-tray-dibber": "cqgi", "drip-line-stake": "build123d", "pallet-compost-bin-corner": "static",
         "bucket-filter-bulkhead": "static"}


def _publish_form(client, data: bytes, filename="design.zip"):
    token = csrf_token(client, "/publish")
    return client.post("/publish", data={"csrf_token": token, "archive": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("slug", sorted(KINDS))
def test_publish_each_kind_through_the_api(client, db, user, slug):
    token = make_token(db, user, ["publish:*"])
    r = client.post("/api/v1/designs", data=zip_folder(SEEDS / slug), content_type="application/zip",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.get_data(as_text=True)
    detail = client.get(f"/api/v1/designs/{slug}").json
    assert detail["kind"] == KINDS[slug]
    page = client.get(f"/designs/{slug}").get_data(as_text=True)
    assert detail["title"] in page.replace("&#39;", "'")
    found = client.get(f"/api/v1/search?q={slug.split('-')[0]}").json
    assert slug in [hit["slug"] for hit in found["hits"]]


def test_a_mesh_design_page_says_why_there_is_no_step(logged_in):
    r = _publish_form(logged_in, zip_folder(SEEDS / "bucket-filter-bulkhead"))
    assert r.status_code == 302
    page = logged_in.get(r.headers["Location"]).get_data(as_text=True)
    assert "No STEP: bulkhead, lock_ring are mesh files (STL, 3MF or OBJ)" in page
    assert "bulkhead.step" not in page and "model.step" not in page
    assert "lock_ring.stl" in page


def test_a_step_design_page_links_its_step(logged_in):
    r = _publish_form(logged_in, zip_folder(SEEDS / "pallet-compost-bin-corner"))
    assert r.status_code == 302
    page = logged_in.get(r.headers["Location"]).get_data(as_text=True)
    assert "No STEP" not in page and "corner_bracket.step" in page


def test_a_cqgi_parameter_the_script_lacks_is_shown_next_to_the_field(logged_in, db, tmp_path):
    folder = tmp_path / "seed-tray-dibber"
    folder.mkdir()
    for f in (SEEDS / "seed-tray-dibber").iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    toml = (folder / "design.toml").read_text().replace('name = "peg_depth"', 'name = "peg_length"')
    (folder / "design.toml").write_text(toml)
    before = counts(db)
    r = _publish_form(logged_in, zip_folder(folder))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert ("<code>seed-tray-dibber/design.toml: parameters[4]</code>: parameter &#39;peg_length&#39; is not "
            "defined in model.py") in html
    assert counts(db) == before

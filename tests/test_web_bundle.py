"""``/designs/<slug>/<version>/bundle.zip``: the design's bundle from the browser."""

from __future__ import annotations

import io
import zipfile

import pytest

from opendesign.bundles.archive import verify
from tests.web_support import *  # noqa: F403


@pytest.fixture
def widget_design(db, make_design):
    import_folder_paths(db, make_design("widget"))  # noqa: F405


def test_unknown_design_or_version_is_404(client, widget_design):
    assert client.get("/designs/ghost/1.0.0/bundle.zip").status_code == 404
    assert client.get("/designs/widget/9.9.9/bundle.zip").status_code == 404


def test_bad_parameter_is_422_naming_the_field(client, widget_design):
    r = client.get("/designs/widget/1.0.0/bundle.zip?width=5000")
    assert r.status_code == 422
    assert b"width" in r.data


def test_design_page_links_the_bundle_with_its_parameters(client, widget_design):
    page = client.get("/designs/widget/1.0.0?width=30").get_data(as_text=True)
    assert 'href="/designs/widget/1.0.0/bundle.zip?width=30"' in page


@pytest.mark.slow
def test_bundle_download_is_a_verified_reproducible_zip(app, client, widget_design, tmp_path):
    from opendesign.parameters import params_hash

    # A build that takes longer than the wait goes on in the background behind a page that reloads itself.
    app.config["RENDER_WAIT_SECONDS"] = 0
    building = client.get("/designs/widget/1.0.0/bundle.zip?width=30")
    assert building.status_code == 202 and building.headers["Refresh"] == "2"
    name = f"widget-1.0.0-p{params_hash({'width': 30.0, 'holes': 2, 'rounded': True, 'finish': 'matte'})}.zip"
    assert name in building.get_data(as_text=True)
    app.config["RENDER_WAIT_SECONDS"] = 300
    first = client.get("/designs/widget/1.0.0/bundle.zip?width=30")  # joins the same build
    assert first.status_code == 200, first.data[:500]
    assert f"filename={name}" in first.headers["Content-Disposition"]
    assert first.headers["Content-Type"] == "application/zip"
    assert "widget-1.0.0-p" in first.headers["Content-Disposition"]  # custom parameters: named by their hash
    path = tmp_path / "bundle.zip"
    path.write_bytes(first.data)
    assert verify(path).ok
    names = zipfile.ZipFile(io.BytesIO(first.data)).namelist()
    assert any(n.endswith("/LICENSE") for n in names) and any(n.endswith("/okh.toml") for n in names)
    again = client.get("/designs/widget/1.0.0/bundle.zip?width=30")
    assert again.data == first.data
    assert client.get("/designs/widget/1.0.0/bundle.zip?width=30",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

"""The design page, the design API and ``opendesign show`` say which kind of model a seed design is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendesign.cli import main
from tests.web_support import *  # noqa: F403

SEEDS = Path(__file__).resolve().parent.parent / "designs"
#: seed -> (kind, label the page shows)
SEED_KINDS = {
    "seed-tray-dibber": ("cqgi", "CadQuery script (CQGI, runs unchanged in CQ-editor)"),
    "rain-barrel-overflow-adapter": ("cqgi", "CadQuery script (CQGI, runs unchanged in CQ-editor)"),
    "drip-line-stake": ("build123d", "build123d model"),
    "pallet-compost-bin-corner": ("static", "Part files (STEP)"),
    "bucket-filter-bulkhead": ("static", "Part files (mesh: STL)"),
    "solar-dryer-rack": ("cadquery", "Parametric CadQuery model"),
}


@pytest.mark.parametrize("slug", sorted(SEED_KINDS))
def test_page_and_api_say_the_kind_of_each_seed(client, db, slug):
    import_folder_paths(db, SEEDS / slug)
    kind, label = SEED_KINDS[slug]
    detail = client.get(f"/api/v1/designs/{slug}").json
    assert (detail["kind"], detail["kind_label"]) == (kind, label)
    page = client.get(f"/designs/{slug}").get_data(as_text=True)
    assert f'<p class="model-kind" id="model-kind" data-kind="{kind}"><span class="badge kind">{label}</span>' in page
    assert f"<small>{detail['kind_explanation']}</small>" in page
    # Only this kind's label is on the page.
    others = {lab for k, lab in SEED_KINDS.values() if lab != label}
    assert not [other for other in others if other in page]


def test_a_mesh_seed_page_says_it_has_no_step(client, db):
    import_folder_paths(db, SEEDS / "bucket-filter-bulkhead")
    page = client.get("/designs/bucket-filter-bulkhead").get_data(as_text=True)
    assert "a mesh holds triangles, not exact geometry, so there is no STEP download" in page
    assert "No STEP: bulkhead, lock_ring are mesh files (STL, 3MF or OBJ)" in page
    assert 'data-format="step" data-part' not in page


def test_a_step_seed_page_offers_every_format(client, db):
    import_folder_paths(db, SEEDS / "pallet-compost-bin-corner")
    page = client.get("/designs/pallet-compost-bin-corner").get_data(as_text=True)
    assert "STEP holds the exact geometry, so every format is offered" in page
    assert "No STEP" not in page and 'data-format="step"' in page


def test_show_says_the_kind(runner, db):
    import_folder_paths(db, SEEDS / "seed-tray-dibber")
    shown = json.loads(runner.invoke(main, ["show", "seed-tray-dibber", "--json"]).output)
    assert shown["kind"] == "cqgi"
    assert shown["kind_label"] == "CadQuery script (CQGI, runs unchanged in CQ-editor)"
    assert "CQ-editor" in shown["kind_explanation"]
    text = runner.invoke(main, ["show", "seed-tray-dibber"]).output
    assert "kind:      CadQuery script (CQGI, runs unchanged in CQ-editor) (cqgi)" in text

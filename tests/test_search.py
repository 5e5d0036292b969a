"""Catalogue search: relevance on the seed commons, facets against the database, sync, CLI."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import tomli_w
from sqlalchemy import select

from opendesign import search
from opendesign.catalogue import queries
from opendesign.catalogue.importer import CREATED, import_designs
from opendesign.cli import main
from opendesign.models import Design, Maker, Production
from opendesign.search import SearchQuery

from .conftest import SEED_DESIGNS, backend_env


@pytest.fixture
def env(env, search_backend, request, monkeypatch):
    """Every test here runs on both search backends."""
    return backend_env(env, search_backend, request, monkeypatch)


@pytest.fixture
def index(settings, db):
    """The test catalogue's index, kept in sync with its commits."""
    idx = search.install(settings)
    yield idx
    search.uninstall(settings)
    idx.close()


def find(index, text: str = "", **kwargs):
    return index.search(SearchQuery(text, **kwargs))


def slugs(results) -> list[str]:
    return [h.slug for h in results.hits]


def write_maker(root, slug: str, design_ref: str, country: str = "DE", legal_form: str = "worker-cooperative"):
    """A maker file producing *design_ref*, in the commons layer's format."""
    folder = root / "makers"
    folder.mkdir(exist_ok=True)
    data = {
        "slug": slug, "name": f"{slug.replace('-', ' ').title()}", "legal_form": legal_form, "country": country,
        "website": "https://example.org", "description": "Test maker.",
        "productions": [{"design": design_ref, "modified": False, "modified_source": "", "attribution": True,
                         "price": 100.0, "currency": "EUR", "regions": ["EU"]}],
    }
    path = folder / f"{slug}.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def import_makers(db, path):
    from opendesign.commons.makers import import_makers as run

    report = run(db, [path])
    assert all(r.status != "invalid" for r in report.results), [r.errors for r in report.results]


# Relevance ---------------------------------------------------------------------------


@pytest.fixture
def seed_index(index, db):
    report = import_designs(db, [SEED_DESIGNS])
    imported = [r for r in report.results if r.status == CREATED]
    if not imported:
        pytest.skip("no seed design validates yet")
    return index, imported


def test_each_seed_design_is_the_first_hit_for_its_title(seed_index, db):
    index, imported = seed_index
    with db.session() as session:
        titles = {r.slug: queries.get_version(session, r.slug).title for r in imported}
    misses = {}
    for slug, title in titles.items():
        results = find(index, title)
        if not results.hits or results.hits[0].slug != slug:
            misses[slug] = (title, slugs(results)[:3])
    assert misses == {}


def test_seed_hits_carry_highlights_and_typos_get_a_suggestion(seed_index):
    index, imported = seed_index
    slugs_ = {r.slug for r in imported}
    if "solar-dryer-rack" not in slugs_:
        pytest.skip("the solar dryer seed design is not there yet")
    results = find(index, "solar dryer")
    assert results.hits[0].slug.startswith("solar-dryer")
    assert "<mark>" in results.hits[0].highlights["title"]
    typo = find(index, "sollar dryer")
    assert typo.suggestion == "solar dryer"
    assert find(index, "solar dryer").suggestion is None


# Facets --------------------------------------------------------------------------


def database_facets(db, category: str | None = None) -> dict[str, Counter]:
    """The facet counts computed from the catalogue itself, for designs of *category* (or all)."""
    counts: dict[str, Counter] = {name: Counter() for name in ("category", "license", "family", "process",
                                                                "has_makers", "country")}
    with db.session() as session:
        for design in session.scalars(select(Design)):
            version = design.latest_version
            if version is None or (category and version.category != category):
                continue
            counts["category"][version.category] += 1
            ids = search.licensing.license_ids(version.license)
            counts["license"].update(set(ids))
            counts["family"].update(set(search.licensing.license_families(ids)))
            counts["process"].update({p.process for p in version.parts})
            makers = session.scalars(select(Maker).join(Production).where(
                Production.version_id.in_([v.id for v in design.versions]))).unique().all()
            counts["has_makers"]["yes" if makers else "no"] += 1
            counts["country"].update({m.country for m in makers})
    return counts


def index_facets(results) -> dict[str, Counter]:
    return {name: Counter({v.value: v.count for v in values}) for name, values in results.facets.items()}


def test_facet_counts_equal_what_the_database_says(index, db, make_design):
    make_design("sun-rack", category="food-agriculture", license="CERN-OHL-S-2.0",
                parts=[{"name": "tray", "material": "PETG", "process": "fdm", "quantity": 4},
                       {"name": "frame", "material": "plywood", "process": "laser", "quantity": 1}])
    make_design("rain-valve", category="water", license="CC-BY-SA-4.0 OR CERN-OHL-W-2.0",
                parts=[{"name": "body", "material": "HDPE", "process": "cnc", "quantity": 1}])
    make_design("mill-gear", category="tools-fabrication", license="CC0-1.0")
    make_design("ppl-stove", category="energy", license="LicenseRef-PPL",
                parts=[{"name": "liner", "material": "steel", "process": "manual", "quantity": 1}])
    make_design("rain-valve-2", category="water", license="CC-BY-SA-4.0", derived_from=["rain-valve@1.0.0"])
    assert import_designs(db, [make_design.root]).ok
    import_makers(db, write_maker(make_design.root, "kenya-coop", "rain-valve@1.0.0", country="KE"))
    import_makers(db, write_maker(make_design.root, "berlin-works", "sun-rack@1.0.0", country="DE",
                                  legal_form="for-profit"))

    everything = find(index, "", limit=0)
    assert everything.total == 5
    expected = database_facets(db)
    assert index_facets(everything) == expected
    assert expected["has_makers"] == Counter({"yes": 2, "no": 3})
    assert expected["country"] == Counter({"KE": 1, "DE": 1})

    water = find(index, "", filters={"category": ("water",)})
    assert water.total == 2
    assert index_facets(water) == database_facets(db, category="water")
    assert {h.slug for h in find(index, "", filters={"country": ("ke",)}).hits} == {"rain-valve"}
    assert {h.slug for h in find(index, "", filters={"family": ("copyfair",)}).hits} == {"ppl-stove"}
    assert {h.slug for h in find(index, "", filters={"process": ("laser", "cnc")}).hits} == {"sun-rack",
                                                                                            "rain-valve"}


# Sync ------------------------------------------------------------------------------


def test_index_follows_import_new_version_production_fork_and_delete(index, db, make_design):
    make_design("alpha", title="Alpha rainwater diverter", tags=["water"])
    assert not index.exists()
    import_designs(db, [make_design.root])  # no index yet: the first change builds it
    assert [(h.slug, h.version) for h in find(index, "rainwater").hits] == [("alpha", "1.0.0")]

    make_design("alpha", version="1.1.0", title="Alpha fog collector", tags=["water"])
    import_designs(db, [make_design.root])
    assert [(h.slug, h.version) for h in find(index, "fog").hits] == [("alpha", "1.1.0")]
    assert find(index, "rainwater").total == 0

    import_makers(db, write_maker(make_design.root, "fog-coop", "alpha@1.1.0", country="PE"))
    hit = find(index, "fog", filters={"has_makers": ("yes",)}).hits[0]
    assert (hit.slug, hit.productions) == ("alpha", 1)
    assert find(index, "peru cooperative").hits[0].slug == "alpha"  # maker names and countries are indexed

    make_design("beta", title="Beta fog collector", derived_from=["alpha@1.1.0"])
    import_designs(db, [make_design.root])
    by_slug = {h.slug: h for h in find(index, "fog", sort="most-forked").hits}
    assert by_slug["alpha"].forks == 1
    assert find(index, "fog", sort="most-forked").hits[0].slug == "alpha"

    with db.session() as session:
        session.delete(session.scalar(select(Design).where(Design.slug == "beta")))
    assert slugs(find(index, "fog")) == ["alpha"]
    assert find(index, "fog").hits[0].forks == 0  # the parent's fork count followed the deletion
    with db.session() as session:
        assert search.compare(index, session).in_sync


def test_status_notices_an_index_that_fell_behind(index, db, make_design, settings):
    make_design("alpha")
    import_designs(db, [make_design.root])
    search.uninstall(settings)  # changes from now on are not followed
    make_design("alpha", version="1.0.1")
    make_design("gamma")
    import_designs(db, [make_design.root])
    with db.session() as session:
        status = search.compare(index, session)
        assert (status.in_sync, status.stale, status.missing) == (False, ("alpha",), ("gamma",))
        assert search.rebuild_index(index, session) == 2
        assert search.compare(index, session).in_sync


def test_null_index_finds_nothing_and_accepts_everything():
    null = search.NullSearchIndex()
    null.apply([], deleted=["x"])
    assert null.search(SearchQuery("anything")).total == 0
    assert not null.exists()


# CLI --------------------------------------------------------------------------------


def test_cli_import_search_and_index_commands(runner, make_design):
    make_design("alpha", title="Alpha solar dryer", category="food-agriculture")
    make_design("beta", title="Beta water filter", category="water",
                parts=[{"name": "body", "material": "HDPE", "process": "cnc", "quantity": 1}])
    assert runner.invoke(main, ["import", str(make_design.root)]).exit_code == 0

    out = runner.invoke(main, ["search", "solar", "dryer", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["total"] == 1 and data["hits"][0]["slug"] == "alpha"
    assert set(data["hits"][0]) >= {"slug", "version", "title", "score", "highlights"}
    assert data["facets"]["category"] == {"food-agriculture": 1}
    assert data["suggestion"] is None

    data = json.loads(runner.invoke(main, ["search", "--process", "cnc", "--json"]).output)
    assert [h["slug"] for h in data["hits"]] == ["beta"]
    data = json.loads(runner.invoke(main, ["search", "sollar", "--json"]).output)
    assert data["suggestion"] == "solar"

    text = runner.invoke(main, ["search", "NOT OR (((", "--category", "water"])
    assert text.exit_code == 0 and "error" not in text.output.lower()

    status = json.loads(runner.invoke(main, ["index", "status", "--json"]).output)
    assert status["in_sync"] and status["documents"] == 2
    rebuilt = runner.invoke(main, ["index", "rebuild", "--json"])
    assert rebuilt.exit_code == 0 and json.loads(rebuilt.output)["indexed"] == 2
    assert json.loads(runner.invoke(main, ["index", "status", "--json"]).output)["generation"] != \
        status["generation"]
    assert "in sync" in runner.invoke(main, ["index", "status"]).output

"""Maker files: strict validation, idempotent import with the designs, and the makers commands."""

from __future__ import annotations

import json

import pytest
import tomli_w
from sqlalchemy import func, select

from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.commons.makers import import_makers, load_maker_file
from opendesign.errors import ManifestError
from opendesign.models import Contribution, Maker, Production


def maker_data(slug: str = "example-coop", **overrides) -> dict:
    data = {
        "slug": slug,
        "name": "Example Fabrication Cooperative",
        "legal_form": "worker-cooperative",
        "country": "DE",
        "website": "https://example.org",
        "description": "Builds dryers.",
        "productions": [{"design": "widget@1.0.0", "modified": False, "modified_source": "", "attribution": True,
                         "price": 120.0, "currency": "EUR", "regions": ["EU", "CH"],
                         "source_location": "https://example.org/widget-source"}],
        "contributions": [{"design": "widget", "kind": "money", "amount": 250.0, "currency": "EUR",
                           "date": "2026-05-01", "note": "tooling fund",
                           "evidence": "https://opencollective.example/widget/transactions/1"}],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_maker(make_design):
    folder = make_design.root / "makers"

    def make(slug: str = "example-coop", *, raw: str | None = None, file: str | None = None, **overrides):
        folder.mkdir(exist_ok=True)
        path = folder / f"{file or slug}.toml"
        path.write_text(raw if raw is not None else tomli_w.dumps(maker_data(slug, **overrides)))
        return path

    make.folder = folder
    return make


@pytest.fixture
def catalogue(db, make_design):
    make_design("widget", license="CERN-OHL-S-2.0")
    make_design("widget-fork", license="CERN-OHL-S-2.0", derived_from=["widget@1.0.0"])
    make_design("other", license="CC-BY-4.0")
    assert import_designs(db, [make_design.root]).ok
    return db


def errors(path) -> list[str]:
    with pytest.raises(ManifestError) as exc:
        load_maker_file(path)
    return [str(e) for e in exc.value.errors]


def test_valid_file_loads(make_maker):
    source = load_maker_file(make_maker())
    assert source.spec.productions[0].regions == ["EU", "CH"]
    assert str(source.spec.contributions[0].date) == "2026-05-01"
    assert len(source.source_hash) == 64


def test_schema_errors_name_file_and_field(make_maker):
    path = make_maker(
        "bad-maker", webiste="https://typo.example", legal_form="llc", country="XX",
        productions=[
            {"design": "widget@1.0.0", "price": -5, "currency": "EUROS", "regions": ["Europe"], "modified": "yes"},
            {"design": "widget", "price": 10},
            {"design": "widget@1.0.0", "modified_source": "https://example.org/src"},
        ],
        contributions=[
            {"design": "widget", "kind": "money", "amount": -250, "date": "2026-02-30"},
            {"design": "widget", "kind": "gift", "amount": 1, "date": "yesterday"},
            {"design": "widget", "kind": "hours", "amount": 12, "currency": "EUR", "date": "2026-01-01"},
            {"design": "Not A Slug", "kind": "hardware", "date": "2026-01-01"},
        ],
    )
    found = errors(path)
    text = "\n".join(found)
    f = str(path)
    assert f"{f}: webiste: unknown field" in text
    assert f"{f}: legal_form: 'llc' is not allowed" in text
    assert f"{f}: country: 'XX' is not an ISO 3166-1 alpha-2 country code" in text
    assert f"{f}: productions[0].price: must not be negative (got -5)" in text
    assert f"{f}: productions[0].currency: 'EUROS' is not an ISO 4217 currency code" in text
    assert f"{f}: productions[0].regions[0]: 'Europe' is neither an ISO 3166-1 alpha-2 country code" in text
    assert f"{f}: productions[0].modified:" in text
    assert f"{f}: contributions[0].amount: must be greater than zero (got -250)" in text
    assert f"{f}: contributions[0].date: '2026-02-30' is not a calendar date" in text
    assert f"{f}: contributions[1].kind: 'gift' is not allowed" in text
    assert f"{f}: contributions[1].date: 'yesterday' is not a date" in text
    assert f"{f}: contributions[3].design: 'Not A Slug' must name a catalogue design" in text


def test_cross_field_errors_name_the_field_to_fix(make_maker):
    path = make_maker(
        productions=[
            {"design": "widget", "price": 10},
            {"design": "widget@1.0.0", "modified_source": "https://example.org/src"},
            {"design": "widget@1.0.0", "currency": "EUR"},
        ],
        contributions=[
            {"design": "widget", "kind": "money", "amount": 5, "date": "2026-01-01"},
            {"design": "widget", "kind": "hours", "amount": 12, "currency": "EUR", "date": "2026-01-01"},
            {"design": "widget", "kind": "hardware", "currency": "EUR", "date": "2026-01-01"},
        ],
    )
    text = "\n".join(errors(path))
    f = str(path)
    assert f"{f}: productions[0].design: 'widget' must name a version" in text
    assert f"{f}: productions[0].currency: required when a price is given" in text
    assert f"{f}: productions[1].modified_source: given, but modified = false" in text
    assert f"{f}: productions[2].price: required when a currency is given" in text
    assert f"{f}: contributions[0].currency: required for kind 'money'" in text
    assert f"{f}: contributions[1].currency: not allowed for kind 'hours'" in text
    assert f"{f}: contributions[2].amount: required for kind 'hardware'" in text


def test_slug_country_case_and_toml_errors(make_maker):
    assert any("slug: 'other-name' must equal the file name 'example-coop'" in e
               for e in errors(make_maker(file="example-coop", slug="other-name")))
    assert any("country: 'de' is not an ISO 3166-1 alpha-2 country code (did you mean 'DE'?)" in e
               for e in errors(make_maker(country="de")))
    assert any("is not valid TOML" in e for e in errors(make_maker(raw="slug = \n")))
    assert any("contributions[0].date: must be a date (YYYY-MM-DD), not a date and time" in e
               for e in errors(make_maker(raw=tomli_w.dumps(maker_data()).replace(
                   'date = "2026-05-01"', "date = 2026-05-01T10:00:00"))))
    assert any("name: field required" in e for e in errors(make_maker(raw='slug = "example-coop"\n'
                                                                        'legal_form = "individual"\n'
                                                                        'country = "KE"\n')))


def test_catalogue_errors_name_file_and_field(catalogue, make_maker):
    path = make_maker(
        productions=[
            {"design": "nowhere@1.0.0"},
            {"design": "widget@9.0.0"},
            {"design": "other@1.0.0", "modified": True, "modified_source": "widget-fork@1.0.0"},
            {"design": "widget@1.0.0", "modified": True, "modified_source": "widget-fork@1.0.0"},
        ],
        contributions=[{"design": "ghost", "kind": "improvement", "date": "2026-01-01",
                        "evidence": "https://git.example/ghost/pulls/1"}],
    )
    report = import_makers(catalogue, [make_maker.folder])
    (result,) = report.results
    assert result.status == "invalid" and not report.ok
    text = "\n".join(result.errors)
    assert f"{path}: productions[0].design: no design 'nowhere' in the catalogue" in text
    assert f"{path}: productions[1].design: design 'widget' has no version 9.0.0 (published: 1.0.0)" in text
    assert f"{path}: productions[2].modified_source: widget-fork@1.0.0 is not a derivative of other@1.0.0" in text
    assert "productions[3]" not in text  # a real derivative is a valid source
    assert f"{path}: contributions[0].design: no design 'ghost' in the catalogue" in text
    with catalogue.session() as s:
        assert s.scalar(select(func.count()).select_from(Maker)) == 0


def test_import_is_idempotent_and_replaces_on_change(catalogue, make_maker):
    make_maker()
    assert import_makers(catalogue, [make_maker.folder]).as_dict()["created"] == 1
    assert import_makers(catalogue, [make_maker.folder]).as_dict()["unchanged"] == 1
    make_maker(productions=[{"design": "other@1.0.0"},
                            {"design": "widget-fork@1.0.0", "attribution": False, "source_location": "widget-fork@1.0.0"}],
               contributions=[*maker_data()["contributions"],
                              {"design": "other", "kind": "improvement", "date": "2026-03-01",
                               "note": "wider tray", "evidence": "https://git.example/other/pull/7"}])
    assert import_makers(catalogue, [make_maker.folder]).as_dict()["updated"] == 1
    with catalogue.session() as s:
        maker = s.scalar(select(Maker))
        assert sorted(p.design_version.ref for p in maker.productions) == ["other@1.0.0", "widget-fork@1.0.0"]
        # the ledger is append-only: the file's first entry stays, the new one is added
        assert [(c.kind, str(c.amount), c.design.slug) for c in maker.contributions] == [
            ("money", "250.00", "widget"), ("improvement", "1", "other")]
        assert s.scalar(select(func.count()).select_from(Production)) == 2
        assert s.scalar(select(func.count()).select_from(Contribution)) == 2
        assert {p.verdict for p in maker.productions} == {"compliant", "needs-action"}
    # a removed file leaves its maker in the catalogue
    (make_maker.folder / "example-coop.toml").unlink()
    assert import_makers(catalogue, [make_maker.folder]).results == []
    with catalogue.session() as s:
        assert s.scalar(select(Maker.slug)) == "example-coop"


def test_duplicate_slug_across_folders(catalogue, make_maker, tmp_path):
    make_maker()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "example-coop.toml").write_text(tomli_w.dumps(maker_data()))
    report = import_makers(catalogue, [make_maker.folder, other])
    assert [r.status for r in report.results] == ["created", "invalid"]
    assert "slug: 'example-coop' is also the slug of" in report.results[1].errors[0]


def test_opendesign_import_imports_makers_and_fails_on_an_invalid_one(runner, make_design, make_maker):
    make_design("widget")
    make_maker()
    result = runner.invoke(main, ["import", str(make_design.root)])
    assert result.exit_code == 0, result.output
    assert "created  maker example-coop" in result.output
    assert "makers: 1 created, 0 updated, 0 unchanged, 0 invalid" in result.output
    assert "productions: 1 compliant" in result.output

    make_maker("broken-maker", currency="EUR", country="ZZ")
    result = runner.invoke(main, ["import", str(make_design.root)])
    assert result.exit_code == 1
    assert "makers: 0 created, 0 updated, 1 unchanged, 1 invalid" in result.output
    assert f"{make_maker.folder / 'broken-maker.toml'}: currency: unknown field" in result.output
    assert f"{make_maker.folder / 'broken-maker.toml'}: country: 'ZZ'" in result.output

    data = json.loads(runner.invoke(main, ["import", "--json", str(make_design.root)]).output)
    assert data["unchanged"] == 1 and data["makers"]["invalid"] == 1
    assert data["makers"]["verdicts"]["compliant"] == 1
    # importing one design folder finds no makers folder, and says nothing about makers
    result = runner.invoke(main, ["import", str(make_design.root / "widget")])
    assert result.exit_code == 0 and "makers:" not in result.output


def test_makers_list_show_check(runner, make_design, make_maker):
    make_design("widget", license="CERN-OHL-S-2.0")
    make_design("nc-lamp", license="CC-BY-NC-4.0")
    make_maker()
    make_maker("acme-corp", name="ACME Corp", legal_form="for-profit", country="US",
               productions=[{"design": "widget@1.0.0", "modified": True, "price": 99.0, "currency": "USD"}],
               contributions=[])
    assert runner.invoke(main, ["import", str(make_design.root)]).exit_code == 0

    listing = runner.invoke(main, ["makers", "list"])
    assert listing.exit_code == 0
    assert "acme-corp" in listing.output and "1 needs-action" in listing.output
    assert "gives back: nothing recorded  (claimed, awaiting review: money 250 EUR)" in listing.output
    rows = json.loads(runner.invoke(main, ["makers", "list", "--json"]).output)
    assert [r["slug"] for r in rows] == ["acme-corp", "example-coop"]

    check = runner.invoke(main, ["makers", "check"])
    assert check.exit_code == 0, check.output  # needs-action is not a violation
    assert "publish the modified source under CERN-OHL-S-2.0" in check.output

    shown = json.loads(runner.invoke(main, ["makers", "show", "example-coop", "--json"]).output)
    assert shown["productions"][0]["verdict"] == "compliant"
    entry = shown["contributions"][0]
    assert {k: entry[k] for k in ("maker", "design", "kind", "amount", "currency", "unit", "date", "note", "state",
                                  "evidence")} == {
        "maker": "example-coop", "design": "widget", "kind": "money", "amount": "250.00", "currency": "EUR",
        "unit": "EUR", "date": "2026-05-01", "note": "tooling fund", "state": "claimed",
        "evidence": ["https://opencollective.example/widget/transactions/1"]}
    assert shown["reciprocity"]["gives_back"] is False  # claimed only
    text = runner.invoke(main, ["makers", "show", "example-coop"]).output
    assert f"{entry['id']}  2026-05-01" in text and "claimed" in text
    assert "claimed, awaiting a steward: money 250 EUR" in text
    text = runner.invoke(main, ["makers", "show", "acme-corp"]).output
    assert "produces without giving back: widget" in text

    # a for-profit selling a non-commercial design: a violation, and check exits 1
    make_maker("acme-corp", name="ACME Corp", legal_form="for-profit", country="US",
               productions=[{"design": "nc-lamp@1.0.0", "price": 30.0, "currency": "USD"}], contributions=[])
    assert runner.invoke(main, ["import", str(make_design.root)]).exit_code == 0
    check = runner.invoke(main, ["makers", "check"])
    assert check.exit_code == 1
    assert "violation:" in check.output and "CC-BY-NC-4.0" in check.output
    data = json.loads(runner.invoke(main, ["makers", "check", "--json"]).output)
    assert data["ok"] is False and data["counts"]["violation"] == 1
    assert runner.invoke(main, ["makers", "check", "example-coop"]).exit_code == 0
    assert runner.invoke(main, ["makers", "show", "nobody"]).exit_code == 1


def test_makers_validate(runner, make_design, make_maker):
    make_design("widget")
    assert runner.invoke(main, ["import", str(make_design.root / "widget")]).exit_code == 0
    make_maker()
    result = runner.invoke(main, ["makers", "validate", str(make_maker.folder)])
    assert result.exit_code == 0 and "ok       example-coop" in result.output
    make_maker("bad-one", productions=[{"design": "ghost@1.0.0"}])
    result = runner.invoke(main, ["makers", "validate", str(make_maker.folder), "--json"])
    assert result.exit_code == 1
    bad = [r for r in json.loads(result.output) if not r["valid"]]
    assert bad[0]["errors"] == [f"{make_maker.folder / 'bad-one.toml'}: productions[0].design: "
                                "no design 'ghost' in the catalogue"]
    assert json.loads(runner.invoke(main, ["makers", "list", "--json"]).output) == []  # nothing was written


def test_a_file_never_overwrites_a_maker_managed_on_the_web(catalogue, make_maker):
    from opendesign.models import User

    make_maker()
    assert import_makers(catalogue, [make_maker.folder]).ok
    with catalogue.session() as s:
        owner = User(username="coop", email="coop@example.org", password_hash="x")
        s.add(owner)
        s.flush()
        s.scalar(select(Maker)).owner_id = owner.id
    make_maker(name="Someone Else Entirely")
    report = import_makers(catalogue, [make_maker.folder])
    (result,) = report.results
    assert result.status == "invalid"
    assert result.errors[0].endswith("example-coop.toml: slug: maker 'example-coop' is managed by its owner's "
                                     "account on the web; a maker file cannot replace it (rename or remove the file)")
    with catalogue.session() as s:
        assert s.scalar(select(Maker.name)) == "Example Fabrication Cooperative"

"""License compatibility along lineage edges: the import check, the audit, allowed licenses."""

from __future__ import annotations

import json

from sqlalchemy import update

from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.commons import edges  # noqa: F401  (installs the import check)
from opendesign.licenses.compatibility import allowed_licenses
from opendesign.licenses.rules import describe_parent
from opendesign.models import DesignVersion


def import_all(db, make_design):
    return import_designs(db, [make_design.root])


def result_of(report, slug):
    return next(r for r in report.results if r.slug == slug)


def test_compatible_derivative_imports(db, make_design):
    make_design("parent", license="CC-BY-SA-4.0")
    make_design("same", license="CC-BY-SA-4.0", derived_from=["parent@1.0.0"])
    make_design("one-way", license="GPL-3.0-or-later", derived_from=["parent@1.0.0"])
    make_design("free", license="CC0-1.0")
    make_design("from-free", license="LicenseRef-PPL", derived_from=["free@1.0.0"])
    report = import_all(db, make_design)
    assert report.ok, report.as_dict()["errors"]


def test_incompatible_single_parent_is_refused_with_an_explanation(db, make_design):
    make_design("parent", license="CC-BY-SA-4.0")
    make_design("child", license="CC-BY-4.0", derived_from=["parent@1.0.0"])
    report = import_all(db, make_design)
    child = result_of(report, "child")
    assert child.status == "invalid" and result_of(report, "parent").status == "created"
    (message,) = child.errors
    assert message.startswith(f"{make_design.root}/child/design.toml: license: CC-BY-4.0 is not allowed")
    assert "parent@1.0.0 is licensed CC-BY-SA-4.0" in message  # the parent and its license
    assert describe_parent("CC-BY-SA-4.0").rule in message  # the rule
    assert "CC-BY-SA-4.0 §3(b)(1)" in message  # the clause
    assert "Allowed for this derivative: CC-BY-SA-4.0, GPL-3.0-or-later" in message  # what would be allowed


def test_incompatible_multi_parent_names_each_parent(db, make_design):
    make_design("hardware", license="CERN-OHL-S-2.0")
    make_design("manual", license="CC-BY-SA-4.0")
    make_design("permissive", license="CC-BY-4.0")
    # CERN-OHL-S and CC-BY-SA: no license satisfies both
    make_design("impossible", license="CERN-OHL-S-2.0", derived_from=["hardware@1.0.0", "manual@1.0.0"])
    # satisfies the permissive parent but not the share-alike one
    make_design("half", license="CC-BY-4.0", derived_from=["permissive@1.0.0", "manual@1.0.0"])
    # satisfies both: a CC-BY parent lets the child keep the CC-BY-SA parent's license
    make_design("fine", license="CC-BY-SA-4.0", derived_from=["permissive@1.0.0", "manual@1.0.0"])
    report = import_all(db, make_design)
    assert result_of(report, "fine").status == "created"

    impossible = result_of(report, "impossible")
    assert impossible.status == "invalid"
    text = "\n".join(impossible.errors)
    assert "no license satisfies every parent" in text
    assert "hardware@1.0.0 (CERN-OHL-S-2.0)" in text and "manual@1.0.0 (CC-BY-SA-4.0)" in text
    assert "manual@1.0.0 is licensed CC-BY-SA-4.0" in text
    assert all(e.split(": ")[1] == "license" for e in impossible.errors)

    half = result_of(report, "half")
    assert half.status == "invalid"
    (message,) = half.errors
    assert "manual@1.0.0 is licensed CC-BY-SA-4.0" in message
    assert "permissive@1.0.0" not in message  # the permissive parent is satisfied
    assert "Allowed for this derivative: CC-BY-SA-4.0" in message


def test_no_derivatives_parent_refuses_every_license(db, make_design):
    make_design("sealed", license="CC-BY-ND-4.0")
    make_design("remix", license="CC-BY-ND-4.0", derived_from=["sealed@1.0.0"])
    report = import_all(db, make_design)
    (message,) = result_of(report, "remix").errors
    assert "sealed@1.0.0 is licensed CC-BY-ND-4.0" in message
    assert "forbids sharing derivatives" in message
    assert "No license is allowed for this derivative" in message


def test_non_commercial_parent_keeps_derivatives_non_commercial(db, make_design):
    make_design("nc", license="CC-BY-NC-4.0")
    make_design("to-mit", license="MIT", derived_from=["nc@1.0.0"])
    make_design("to-nc-sa", license="CC-BY-NC-SA-4.0", derived_from=["nc@1.0.0"])
    report = import_all(db, make_design)
    assert result_of(report, "to-nc-sa").status == "created"
    (message,) = result_of(report, "to-mit").errors
    assert "nc@1.0.0 is licensed CC-BY-NC-4.0" in message and "CC-BY-NC-SA-4.0" in message


def test_or_parent_lets_the_deriver_choose(db, make_design):
    make_design("dual", license="CERN-OHL-S-2.0 OR CC-BY-SA-4.0")
    make_design("takes-sa", license="CC-BY-SA-4.0", derived_from=["dual@1.0.0"])
    make_design("takes-s", license="CERN-OHL-S-2.0", derived_from=["dual@1.0.0"])
    make_design("takes-neither", license="MIT", derived_from=["dual@1.0.0"])
    report = import_all(db, make_design)
    assert result_of(report, "takes-sa").status == "created"
    assert result_of(report, "takes-s").status == "created"
    assert result_of(report, "takes-neither").status == "invalid"


def test_or_child_must_satisfy_the_parent_under_every_option(db, make_design):
    make_design("sa", license="CC-BY-SA-4.0")
    make_design("either", license="CC-BY-SA-4.0 OR MIT", derived_from=["sa@1.0.0"])
    report = import_all(db, make_design)
    assert "sa@1.0.0 is licensed CC-BY-SA-4.0" in result_of(report, "either").errors[0]


def test_and_parent_binds_every_part(db, make_design):
    make_design("both", license="CERN-OHL-W-2.0 AND CC-BY-4.0")
    make_design("keeps-w", license="CERN-OHL-W-2.0", derived_from=["both@1.0.0"])
    make_design("drops-w", license="CC-BY-4.0", derived_from=["both@1.0.0"])
    report = import_all(db, make_design)
    assert result_of(report, "keeps-w").status == "created"
    (message,) = result_of(report, "drops-w").errors
    assert "both@1.0.0 is licensed CERN-OHL-W-2.0 AND CC-BY-4.0" in message


def test_licenses_check_audits_every_edge(runner, db, make_design):
    make_design("parent", license="CC-BY-SA-4.0")
    make_design("child", license="CC-BY-SA-4.0", derived_from=["parent@1.0.0"])
    assert import_all(db, make_design).ok
    result = runner.invoke(main, ["licenses", "check"])
    assert result.exit_code == 0, result.output
    assert "ok       parent@1.0.0 (CC-BY-SA-4.0) -> child@1.0.0 (CC-BY-SA-4.0)" in result.output
    assert "1 edges, 0 incompatible" in result.output
    # An edge stored before a rule changed (simulated): the audit finds it.
    with db.session() as s:
        s.execute(update(DesignVersion).where(DesignVersion.license == "CC-BY-SA-4.0",
                                              DesignVersion.title.contains("child")).values(license="MIT"))
    result = runner.invoke(main, ["licenses", "check"])
    assert result.exit_code == 1
    assert "INCOMPATIBLE parent@1.0.0 (CC-BY-SA-4.0) -> child@1.0.0 (MIT)" in result.output
    data = json.loads(runner.invoke(main, ["licenses", "check", "--json"]).output)
    assert data["ok"] is False and data["incompatible"] == 1
    (edge,) = data["results"]
    assert edge["problems"][0]["kind"] == "share-alike"
    assert "CC-BY-SA-4.0" in edge["problems"][0]["allowed"]


def test_licenses_allowed(runner, db, make_design):
    make_design("hardware", license="CERN-OHL-S-2.0")
    make_design("manual", license="CC-BY-SA-4.0")
    make_design("gear", license="CC-BY-4.0")
    assert import_all(db, make_design).ok
    result = runner.invoke(main, ["licenses", "allowed", "gear", "manual@1.0.0"])
    assert result.exit_code == 0, result.output
    assert "allowed: " + ", ".join(allowed_licenses(_refs(("gear", "CC-BY-4.0"), ("manual", "CC-BY-SA-4.0")))) \
        in result.output
    result = runner.invoke(main, ["licenses", "allowed", "hardware", "manual", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["allowed"] == [] and "no license satisfies every parent" in data["reason"]
    missing = runner.invoke(main, ["licenses", "allowed", "nowhere"])
    assert missing.exit_code == 1 and "no design 'nowhere'" in missing.output


def _refs(*pairs):
    from opendesign.licenses.compatibility import ParentRef

    return [ParentRef(slug, "1.0.0", license_) for slug, license_ in pairs]


def test_licenses_list_and_show(runner):
    result = runner.invoke(main, ["licenses", "list"])
    assert result.exit_code == 0
    assert "LicenseRef-PPL" in result.output and "copyfair" in result.output
    result = runner.invoke(main, ["licenses", "show", "CERN-OHL-W-2.0"])
    assert result.exit_code == 0
    assert "compatible:" in result.output and "CERN-OHL-S-2.0" in result.output
    data = json.loads(runner.invoke(main, ["licenses", "show", "cc-by-nd-4.0", "--json"]).output)
    assert data["id"] == "CC-BY-ND-4.0" and data["derivatives_allowed"] is False
    unknown = runner.invoke(main, ["licenses", "show", "WTFPL-9"])
    assert unknown.exit_code == 1 and "no license 'WTFPL-9'" in unknown.output

"""Forking a catalogue version into a new design folder."""

from __future__ import annotations

import json
import tomllib

import pytest
import tomli_w

from .conftest import design_manifest
from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.commons.fork import fork
from opendesign.errors import LicenseConflict


@pytest.fixture
def published(db, make_design):
    make_design("dryer", license="CERN-OHL-W-2.0", extra_files={"bom.csv": b"item,quantity\nscrew,4\n"},
                bom=[])
    make_design("sealed", license="CC-BY-ND-4.0")
    make_design("ppl-press", license="LicenseRef-PPL")
    assert import_designs(db, [make_design.root]).ok
    return make_design


def manifest(path):
    return tomllib.loads((path / "design.toml").read_text())


def test_fork_end_to_end(runner, published):
    root = published.root
    # the parent folder changes after publication: the fork copies what was published
    (root / "dryer" / "README.md").write_text("# unpublished edit\n")
    result = runner.invoke(main, ["fork", "dryer", "dryer-xl", "--title", "Dryer, extra large",
                                  "--designs-dir", str(root)])
    assert result.exit_code == 0, result.output
    assert "forked dryer@1.0.0 -> dryer-xl@0.1.0" in result.output
    assert "license:  CERN-OHL-W-2.0" in result.output
    target = root / "dryer-xl"
    m = manifest(target)
    assert (m["slug"], m["version"], m["derived_from"], m["license"], m["title"]) == (
        "dryer-xl", "0.1.0", ["dryer@1.0.0"], "CERN-OHL-W-2.0", "Dryer, extra large")
    assert m["parameters"] == manifest(root / "dryer")["parameters"]
    assert (target / "README.md").read_text() == "# Test widget\n\nPrint flat.\n"
    assert (target / "bom.csv").read_bytes() == b"item,quantity\nscrew,4\n"
    assert not [p for p in root.iterdir() if p.name.startswith(".fork")]  # no staging left behind

    result = runner.invoke(main, ["import", str(target)])
    assert result.exit_code == 0, result.output
    assert "created  dryer-xl@0.1.0" in result.output
    family = json.loads(runner.invoke(main, ["lineage", "dryer", "--json"]).output)
    assert family["fork_count"] == 1
    assert family["edges"][0]["parent"] == "dryer@1.0.0" and family["edges"][0]["child"] == "dryer-xl@0.1.0"


def test_fork_with_an_allowed_license(runner, published):
    # CERN-OHL-W-2.0 §8.3: a derivative may move to CERN-OHL-S-2.0
    result = runner.invoke(main, ["fork", "dryer@1.0.0", "dryer-s", "--license", "cern-ohl-s-2.0",
                                  "--designs-dir", str(published.root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["license"] == "CERN-OHL-S-2.0"
    assert manifest(published.root / "dryer-s")["license"] == "CERN-OHL-S-2.0"


def test_fork_with_an_incompatible_license_is_refused(runner, published):
    result = runner.invoke(main, ["fork", "dryer", "dryer-mit", "--license", "MIT",
                                  "--designs-dir", str(published.root)])
    assert result.exit_code == 1
    assert "license MIT is not allowed for a fork of dryer@1.0.0" in result.output
    assert "dryer@1.0.0 is licensed CERN-OHL-W-2.0" in result.output
    assert "Allowed for this derivative:" in result.output
    assert {"CERN-OHL-W-2.0", "CERN-OHL-S-2.0"} <= set(result.output.split("Allowed for this derivative: ")[1].rstrip(".\n").split(", "))
    assert not (published.root / "dryer-mit").exists()


def test_no_derivatives_parent_cannot_be_forked(runner, published):
    result = runner.invoke(main, ["fork", "sealed", "unsealed", "--designs-dir", str(published.root)])
    assert result.exit_code == 1
    assert "sealed@1.0.0 cannot be forked" in result.output
    assert "CC-BY-ND-4.0" in result.output and "forbids sharing derivatives" in result.output
    assert not (published.root / "unsealed").exists()


def test_ppl_fork_keeps_ppl(db, published):
    with db.session() as s:
        result = fork(s, "ppl-press", "ppl-press-2", published.root)
    assert result.license == "LicenseRef-PPL"
    with db.session() as s, pytest.raises(LicenseConflict):
        fork(s, "ppl-press", "ppl-press-3", published.root, license="CC-BY-SA-4.0")


def test_fork_refuses_existing_targets_and_bad_input(runner, published):
    root = str(published.root)
    exists = runner.invoke(main, ["fork", "dryer", "sealed", "--designs-dir", root])
    assert exists.exit_code == 1 and "already exists" in exists.output
    taken = runner.invoke(main, ["fork", "dryer", "sealed", "--designs-dir", root + "/elsewhere"])
    assert taken.exit_code == 1 and "'sealed' is already a design in the catalogue" in taken.output
    bad_slug = runner.invoke(main, ["fork", "dryer", "Bad_Slug", "--designs-dir", root])
    assert bad_slug.exit_code == 1 and "'Bad_Slug' is not a valid slug" in bad_slug.output
    missing = runner.invoke(main, ["fork", "nowhere", "new-one", "--designs-dir", root])
    assert missing.exit_code == 1 and "no design 'nowhere'" in missing.output
    bad_title = runner.invoke(main, ["fork", "dryer", "new-one", "--title", "x", "--designs-dir", root])
    assert bad_title.exit_code == 1 and "new-one/design.toml: title:" in bad_title.output
    assert not (published.root / "new-one").exists()


def test_fork_keeps_comments_and_layout(db, make_design):
    text = "# Made at the Tuesday workshop\n" + tomli_w.dumps(design_manifest("commented", license="CC-BY-4.0"))
    make_design("commented", raw_toml=text)
    assert import_designs(db, [make_design.root]).ok
    with db.session() as s:
        fork(s, "commented", "commented-fork", make_design.root)
    out = (make_design.root / "commented-fork" / "design.toml").read_text()
    assert out.startswith("# Made at the Tuesday workshop\n")
    assert 'derived_from = ["commented@1.0.0"]' in out

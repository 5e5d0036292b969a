"""Saved parameter sets (opendesign.presets.saved): canonical values, visibility, names, scopes, limits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from opendesign.accounts import PermissionDenied, create_token, register
from opendesign.catalogue import removal
from opendesign.catalogue.importer import import_designs
from opendesign.catalogue.queries import get_version
from opendesign.errors import NotFound
from opendesign.models import ParameterSet, User
from opendesign.parameters import params_hash
from opendesign.presets import saved as sets


@pytest.fixture
def catalogue(db, make_design):
    report = import_designs(db, [str(make_design("widget")), str(make_design("gadget"))])
    assert report.ok, report.as_dict()
    with db.session() as s:
        register(s, "ada", "ada@example.org", "correct horse battery")
        register(s, "grace", "grace@example.org", "correct horse battery")
    return db


def _user(s, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _save(s, user="ada", ref="widget@1.0.0", name="Wide", values=None, **kw) -> ParameterSet:
    return sets.save_set(s, _user(s, user), get_version(s, ref), name=name,
                         values={"width": "30", "rounded": "false"} if values is None else values, **kw)


def test_saved_values_are_canonical_and_complete(catalogue):
    with catalogue.session() as s:
        saved = _save(s, description="  for the shelf  ")
        public_id = saved.public_id
    with catalogue.session() as s:
        row = sets.get_set(s, public_id, _user(s, "ada"))
        assert row.values == {"width": 30.0, "holes": 2, "rounded": False, "finish": "matte"}
        assert row.params_hash == params_hash(row.values)
        assert row.description == "for the shelf" and row.is_public is False
        view = sets.set_view(row)
        assert view["changed"] == {"width": 30.0, "rounded": False}
        assert (view["design"], view["version"], view["author"]) == ("widget", "1.0.0", "ada")
        assert len(public_id) >= 12


def test_invalid_values_name_every_field_and_save_nothing(catalogue):
    with catalogue.session() as s:
        with pytest.raises(sets.ParameterSetError) as info:
            _save(s, name="", values={"width": 5000, "holes": "many", "colour": "red"})
        assert info.value.by_field() == {
            "name": ["give the parameter set a name"],
            "values.colour": ["unknown parameter (this design has: finish, holes, rounded, width)"],
            "values.width": ["must be at most 100 (got 5000)"],
            "values.holes": ["must be a number, not 'many'"]}
    with catalogue.session() as s:
        assert s.scalar(select(func.count()).select_from(ParameterSet)) == 0


@pytest.mark.parametrize(("kwargs", "field", "reason"), [
    ({"values": ["width", 30]}, "values", "send the parameter values as an object of name -> value"),
    ({"public": "yes"}, "public", "must be true or false, not 'yes'"),
    ({"name": "x" * 101}, "name", "use at most 100 characters (got 101)"),
    ({"name": 42}, "name", "must be text, not int"),
    ({"name": "tab\x07bell"}, "name", "must not contain control characters"),
    ({"description": "d" * 501}, "description", "use at most 500 characters (got 501)"),
])
def test_bad_fields_are_named(catalogue, kwargs, field, reason):
    with catalogue.session() as s, pytest.raises(sets.ParameterSetError) as info:
        _save(s, **kwargs)
    assert info.value.by_field() == {field: [reason]}


def test_names_are_unique_per_user_and_version(catalogue):
    with catalogue.session() as s:
        _save(s, name="Wide")
        with pytest.raises(sets.ParameterSetConflict) as info:
            _save(s, name="  Wide ")  # the same name once its spaces are normalised
        assert "already have a parameter set called 'Wide' for widget@1.0.0" in str(info.value)
        _save(s, name="Wide", user="grace")  # another user may
        _save(s, name="Wide", ref="gadget@1.0.0")  # and so may another design
    with catalogue.session() as s:
        assert s.scalar(select(func.count()).select_from(ParameterSet)) == 3


def test_private_sets_do_not_exist_for_others(catalogue):
    with catalogue.session() as s:
        private = _save(s, name="Mine").public_id
        public = _save(s, name="Shared", public=True).public_id
    with catalogue.session() as s:
        ada, grace = _user(s, "ada"), _user(s, "grace")
        design_id = get_version(s, "widget@1.0.0").design_id
        assert sets.get_set(s, private, ada).name == "Mine"
        for viewer in (grace, None):
            with pytest.raises(NotFound):
                sets.get_set(s, private, viewer)
            assert sets.get_set(s, public, viewer).name == "Shared"
            assert [x.name for x in sets.sets_of_design(s, design_id, viewer)] == ["Shared"]
        assert [x.name for x in sets.sets_of_design(s, design_id, ada)] == ["Shared", "Mine"]
        assert {x.name for x in sets.sets_of_user(s, ada)} == {"Mine", "Shared"}
        assert sets.sets_of_user(s, grace) == []


def test_only_the_author_deletes_or_publishes(catalogue):
    with catalogue.session() as s:
        public = _save(s, name="Shared", public=True).public_id
        private = _save(s, name="Mine").public_id
    with catalogue.session() as s:
        grace = _user(s, "grace")
        with pytest.raises(PermissionDenied, match="only its author"):
            sets.delete_set(s, grace, public)
        with pytest.raises(NotFound):
            sets.delete_set(s, grace, private)
        with pytest.raises(NotFound):
            sets.set_public(s, grace, private, True)
    with catalogue.session() as s:
        ada = _user(s, "ada")
        assert sets.set_public(s, ada, private, True).is_public
        assert sets.delete_set(s, ada, public).name == "Shared"
    with catalogue.session() as s:
        assert [x.name for x in s.scalars(select(ParameterSet))] == ["Mine"]


def test_token_scopes(catalogue):
    with catalogue.session() as s:
        ada = _user(s, "ada")
        widget_token, _ = create_token(s, ada, "w", ["presets:widget"])
        publish_token, _ = create_token(s, ada, "p", ["publish:*"])
        all_token, _ = create_token(s, ada, "a", ["presets:*"])
        saved = _save(s, token=widget_token)
        _save(s, ref="gadget@1.0.0", token=all_token)
        with pytest.raises(PermissionDenied, match="presets:gadget"):
            _save(s, ref="gadget@1.0.0", name="Other", token=widget_token)
        with pytest.raises(PermissionDenied, match="presets:widget"):
            _save(s, name="Other", token=publish_token)
        with pytest.raises(PermissionDenied):
            sets.delete_set(s, ada, saved.public_id, token=publish_token)
        sets.delete_set(s, ada, saved.public_id, token=widget_token)


def test_a_user_may_keep_only_so_many(catalogue, monkeypatch):
    monkeypatch.setattr(sets, "MAX_SETS_PER_USER", 2)
    with catalogue.session() as s:
        _save(s, name="one")
        _save(s, name="two")
        with pytest.raises(sets.ParameterSetError, match="the most one account may keep"):
            _save(s, name="three")


def test_removing_a_version_removes_its_sets(catalogue):
    with catalogue.session() as s:
        _save(s, name="Widget set")
        _save(s, ref="gadget@1.0.0", name="Gadget set")
    with catalogue.session() as s:
        removal.remove(s, "widget@1.0.0")
    with catalogue.session() as s:
        assert [x.name for x in s.scalars(select(ParameterSet))] == ["Gadget set"]

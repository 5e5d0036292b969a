"""Malformed uploaded text: every parse ends in an error naming the file, never a 500 or a traceback.

The two uploads of issue 14 (a design.toml nested 900 levels deep in a
657-byte zip, a bom.csv row missing a column) go through the form, the API
and ``opendesign validate``; Hypothesis then fuzzes the manifest, BOM and
maker-file readers.
"""

from __future__ import annotations

import io
import string

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from opendesign.cli import main
from opendesign.commons.makers.loader import load_maker_file
from opendesign.errors import FieldError, ManifestError
from opendesign.manifests import load_design_folder
from opendesign.manifests.bom import read_bom_csv
from opendesign.manifests.textfiles import MAX_DEPTH, TextError, parse_toml
from tests.conftest import MODEL_SOURCE, design_manifest
from tests.web_support import *  # noqa: F403

DEEP_TOML = ("slug = \"deep\"\nx = " + "[" * 900 + "]" * 900 + "\n").encode()
SHORT_BOM = b"item,quantity,unit,note\nM4 bolt,8,pcs,stainless\nwasher\n"


def _zip(files: dict[str, bytes], prefix: str = "widget") -> bytes:
    return zip_entries([(f"{prefix}/{name}", data) for name, data in files.items()])


def _widget(**replace: bytes) -> dict[str, bytes]:
    files = {"design.toml": tomli_w.dumps(design_manifest("widget", bom=[])).encode(),
             "model.py": MODEL_SOURCE.encode(), "README.md": b"# Widget\n"}
    files.update(replace)
    return files


def _publish_form(client, data: bytes):
    token = csrf_token(client, "/publish")
    return client.post("/publish", data={"csrf_token": token, "archive": (io.BytesIO(data), "w.zip")},
                       content_type="multipart/form-data")


def test_the_deep_toml_zip_is_small():
    assert len(_zip({"design.toml": DEEP_TOML})) < 1024


@pytest.mark.parametrize("name,files,phrase", [
    ("deep-toml", {"design.toml": DEEP_TOML}, "design.toml: is nested too deeply"),
    ("short-bom", _widget(**{"bom.csv": SHORT_BOM}), "bom.csv: row 3: has no value for column(s) quantity"),
])
def test_malformed_uploads_are_422_naming_the_file(name, files, phrase, logged_in, client, db, user):
    data = _zip(files)
    r = _publish_form(logged_in, data)
    assert r.status_code == 422, r.get_data(as_text=True)[:500]
    assert phrase in r.get_data(as_text=True).replace("&#39;", "'")
    token = make_token(db, user, ["publish:*"])
    r = client.post("/api/v1/designs", data=data, content_type="application/zip",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert phrase.split(": ", 1)[0] in " ".join(error["fields"]) and "Traceback" not in error["message"]
    assert counts(db)["Design"] == 0


@pytest.mark.parametrize("files,phrase", [
    ({"design.toml": DEEP_TOML}, "design.toml: is nested too deeply"),
    (_widget(**{"bom.csv": SHORT_BOM}), "bom.csv: row 3: has no value for column(s) quantity"),
    (_widget(**{"bom.csv": b"item,quantity\nbolt,1,extra,values\n"}), "bom.csv: row 2: has 4 values"),
    (_widget(**{"bom.csv": b"item,quantity\nbolt,inf\n"}), "bom.csv: row 2: quantity 'inf' is not a finite"),
    (_widget(**{"bom.csv": b"item,quantity\nbo\x00lt,1\n"}), "bom.csv: line 2: contains a NUL byte"),
    (_widget(**{"model.py": b"x = " + b"-" * 200_000 + b"1\n"}), "model.py: is nested too deeply"),
    (_widget(**{"README.md": b"caf\xe9\n"}), "README.md: line 1: must be UTF-8 text"),
])
def test_validate_reports_malformed_files_without_a_traceback(files, phrase, tmp_path, runner):
    folder = tmp_path / "widget"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    result = runner.invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert phrase in result.output and "Traceback" not in result.output


def test_deeply_nested_maker_file_is_an_error(tmp_path):
    path = tmp_path / "acme.toml"
    path.write_bytes(b"slug = \"acme\"\nx = " + b"{a = " * 500 + b"1" + b"}" * 500 + b"\n")
    with pytest.raises(ManifestError) as exc:
        load_maker_file(path)
    assert str(exc.value).startswith(f"{path}: is nested too deeply")


def test_nesting_just_within_the_limit_is_read():
    depth = MAX_DEPTH - 1
    value = parse_toml(("x = " + "[" * depth + "]" * depth).encode(), "t.toml")
    assert isinstance(value["x"], list)
    with pytest.raises(TextError):
        parse_toml(("x = " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode(), "t.toml")


# -- fuzzing ------------------------------------------------------------------------------------

_TOML_PIECES = st.sampled_from(['slug = "widget"\n', 'version = "1.0.0"\n', "[[parts]]\n", "[[bom]]\n",
                                'name = "x"\n', "quantity = -1\n", "[", "]", "{", "}", "=", '"', "'''", "\n",
                                "a.b.c = 1\n", "x = 1979-05-27T07:32:00Z\n", "nan", "inf", "\x00", "é"])
_TOML_TEXT = st.one_of(st.text(max_size=300),
                       st.lists(_TOML_PIECES, max_size=60).map("".join),
                       st.integers(1, 3000).map(lambda n: "x = " + "[" * n + "]" * n))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TOML_TEXT, garbage=st.binary(max_size=40))
def test_fuzzed_manifests_give_field_errors_only(text, garbage, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz") / "widget"
    folder.mkdir()
    (folder / "design.toml").write_bytes(text.encode("utf-8", "surrogatepass") + garbage)
    (folder / "model.py").write_text(MODEL_SOURCE)
    (folder / "README.md").write_text("# w\n")
    try:
        load_design_folder(folder, display="widget")
    except ManifestError as exc:
        assert exc.errors and all(isinstance(e, FieldError) and e.file.startswith("widget/") for e in exc.errors)


_CSV_CELL = st.one_of(st.text(string.printable, max_size=8), st.sampled_from(["", "1", "-2", "nan", "1e400", '"', "\x00"]))
_CSV_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.lists(_CSV_CELL, max_size=6).map(",".join), max_size=8).map(
        lambda rows: "\n".join(["item,quantity,unit,note", *rows])),
)


@hsettings(max_examples=300, deadline=None)
@given(text=_CSV_TEXT)
def test_fuzzed_bom_csv_gives_row_errors_only(text):
    errors: list[FieldError] = []
    lines = read_bom_csv(text.encode("utf-8", "surrogatepass"), "w/bom.csv", errors)
    assert all(e.file == "w/bom.csv" for e in errors)
    assert all(line.quantity > 0 and line.item for line in lines)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TOML_TEXT)
def test_fuzzed_maker_files_give_field_errors_only(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("makers") / "acme.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load_maker_file(path, "makers/acme.toml")
    except ManifestError as exc:
        assert exc.errors and all(e.file == "makers/acme.toml" for e in exc.errors)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(toml=_TOML_TEXT, bom=_CSV_TEXT)
def test_fuzzed_uploads_never_give_a_500(toml, bom, client, db, user):
    token = make_token(db, user, ["publish:*"], name="fuzz")
    files = _widget(**{"design.toml": toml.encode("utf-8", "surrogatepass"),
                       "bom.csv": bom.encode("utf-8", "surrogatepass")})
    r = client.post("/api/v1/designs", data=_zip(files), content_type="application/zip",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 201, 400, 409, 422), r.get_data(as_text=True)[:500]
    assert "error" in r.get_json() or r.status_code in (200, 201)


# -- JSON bodies and form fields ----------------------------------------------------------------

@pytest.mark.parametrize("body,reason", [
    ("[" * 100_000 + "]" * 100_000, "the JSON is nested too deeply"),
    ('{"slug": "acme", "x": ' + "[" * 40 + "]" * 40 + "}", "the JSON is nested too deeply"),
    ('{"slug": "acme", "name": "Ac\\u0000me"}', "the JSON holds a NUL character"),
    ("{not json", "not valid JSON"),
])
def test_malformed_json_bodies_are_422(body, reason, client, db, user):
    token = make_token(db, user, ["makers:*"])
    r = client.post("/api/v1/makers", data=body, content_type="application/json",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422
    assert reason in r.get_json()["error"]["fields"]["body"][0]
    assert [e.outcome for e in audit_events(db, "maker.register")] == ["refused"]


def test_a_nul_in_a_form_field_is_400(logged_in):
    assert logged_in.get("/search?q=so%00lar").status_code == 200  # a query is not stored: NUL breaks words
    token = csrf_token(logged_in, "/account/makers/new")
    r = logged_in.post("/account/makers/new", data={"csrf_token": token, "slug": "acme", "name": "Ac\x00me"})
    assert r.status_code == 400 and "'name' holds a NUL character" in r.get_data(as_text=True).replace("&#39;", "'")

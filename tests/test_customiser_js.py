"""The customiser's typing rule (web/static/customiser.js ``mayGrow``), run in Node.

A typed number renders at once when no further keystroke can give a value the
field accepts, and waits for the debounce while one can ("25" of 120-400 may
become 250). Node comes with npm, which ``make test`` already needs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CUSTOMISER = Path(__file__).resolve().parent.parent / "web" / "static" / "customiser.js"
WIDTH = {"min": "120", "max": "400", "step": "5"}
TEETH = {"min": "8", "max": "60", "step": "1"}
HALVES = {"min": "0", "max": "10", "step": "0.5"}

CASES = [
    ("250", WIDTH, False), ("400", WIDTH, False), ("25", WIDTH, True), ("2", WIDTH, True), ("1", WIDTH, True),
    ("4000", WIDTH, True),  # out of range: a typo being fixed, not a value to render
    ("12", TEETH, False), ("6", TEETH, True), ("60", TEETH, False),
    ("1", {"min": "1", "max": "10", "step": "1"}, True), ("5", {"min": "1", "max": "10", "step": "1"}, False),
    ("2", HALVES, True), ("2.", HALVES, True), ("2.5", HALVES, False),
    ("0.2", {"min": "0", "max": "1", "step": "0.05"}, True), ("0.25", {"min": "0", "max": "1", "step": "0.05"}, False),
    ("3", {"min": "0", "max": "10", "step": "any"}, True),
    ("-5", {"min": "-10", "max": "10", "step": "1"}, False), ("-1", {"min": "-10", "max": "10", "step": "1"}, True),
    ("", WIDTH, True), ("-", WIDTH, True), ("1e", WIDTH, True), ("0", {"min": "0", "max": "5", "step": "1"}, True),
    ("7", {"min": "", "max": "", "step": "1"}, True),  # unbounded: more digits always fit
]


def test_typed_numbers_render_at_once_only_when_complete():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is missing (it comes with npm: apt-get install -y npm)")
    script = (f"import({json.dumps(CUSTOMISER.as_uri())}).then(({{ mayGrow }}) => {{"
              f" const cases = {json.dumps([[text, field] for text, field, _ in CASES])};"
              " console.log(JSON.stringify(cases.map(([text, field]) => mayGrow(text, field)))); });")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True)
    got = json.loads(out.stdout)
    wrong = [(text, field, want) for (text, field, want), g in zip(CASES, got, strict=True) if g is not want]
    assert not wrong, f"mayGrow disagrees on {wrong}"

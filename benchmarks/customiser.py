"""Customiser benchmark: parameter change -> new mesh drawn, in headless Chromium, over every seed design.

The browser tests time a handful of representative seed designs (tests/browser/conftest.py,
``REPORT_DESIGNS``) so that a suite run stays short; this runs the same two reports over every
seed design (``OPENDESIGN_BROWSER_REPORT=all``) and prints them:

- ``test_report_parameter_change_to_mesh_drawn``: new values typed into a field, p50/p95 and phases;
- ``test_report_speed_of_new_and_rendered_ahead_values``: new values (typed and slid), values the
  server rendered ahead of the user, and values drawn before, per design and overall.

    python benchmarks/customiser.py
    python benchmarks/customiser.py -k ahead     # only the second report
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPORTS = ["tests/browser/test_catalogue_browser.py::test_report_parameter_change_to_mesh_drawn",
           "tests/browser/test_speed_browser.py::test_report_speed_of_new_and_rendered_ahead_values"]


def main(argv: list[str]) -> int:
    env = {**os.environ, "OPENDESIGN_BROWSER_REPORT": "all"}
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *REPORTS, *argv]
    return subprocess.call(command, cwd=REPO, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Browser tests: a live waitress server over a seeded catalogue, driven by Debian's Chromium.

Playwright for Python drives ``/usr/bin/chromium`` (``executable_path``; its
own browser download is never used). A screenshot of the page is saved under
``$REPO/var/browser-failures/`` when a test fails.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("OPENDESIGN_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
FAILURES = REPO / "var" / "browser-failures"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


#: The seed designs the speed reports time in the test suite: one per parametric kind (CadQuery, CQGI, build123d),
#: the slowest (the dryer rack) and a gear. ``OPENDESIGN_BROWSER_REPORT=all`` times every seed design, as
#: ``benchmarks/customiser.py`` does; a report over all of them takes minutes, and a suite run on each database.
REPORT_DESIGNS = ("drip-line-stake", "greenhouse-tarp-clip", "hand-mill-spur-gear", "seed-tray-dibber",
                  "solar-dryer-rack")


#: Read when the suite starts: the ``env`` fixture clears every ``OPENDESIGN_`` variable before a test runs.
REPORT_ALL = os.environ.get("OPENDESIGN_BROWSER_REPORT") == "all"


def report_designs(slugs: list[str]) -> list[str]:
    """The designs of *slugs* a speed report times (see :data:`REPORT_DESIGNS`)."""
    if REPORT_ALL:
        return slugs
    return [slug for slug in slugs if slug in REPORT_DESIGNS]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium; .ci/run does)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    # After the live server: torn down before it, so the browser's keep-alive connections are closed and
    # the server's loop ends at once instead of at the end of the thread join.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        FAILURES.mkdir(parents=True, exist_ok=True)
        shot = FAILURES / f"{request.node.name}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        except Exception as exc:  # the page may be gone; the failure itself matters more
            print(f"could not save a screenshot: {exc}")
    context.close()


@pytest.fixture
def live_server(db, settings):
    """The web app on waitress at a free port, over this test's catalogue with the seed designs."""
    from waitress.server import create_server

    from opendesign.catalogue.importer import import_designs
    from tests.conftest import SEED_DESIGNS
    from web import create_app

    import_designs(db, [str(SEED_DESIGNS)])
    # One browser is one client that renders every seed and many slider values in a few minutes:
    # the render limits (tested in tests/test_web_render_jobs.py) would make it wait, not test it.
    app = create_app({"SETTINGS": settings, "DATABASE": db, "MIGRATE": False, "SECRET_KEY": "browser-test",
                      "RENDER_LIMIT_PER_CLIENT": "100000 per minute", "RENDER_LIMIT_PER_DESIGN": "100000 per minute"})
    # poll(), not select(): closing the server under its loop thread ends quietly (see test_web_render_jobs).
    server = create_server(app, host="127.0.0.1", port=0, threads=8, asyncore_use_poll=True)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    host, port = server.effective_host, server.effective_port
    app.base = f"http://{host}:{port}"
    yield app
    server.close()
    thread.join(5)
    # Renders still running (a speculative one the page offered last) end before the next test's
    # database fixture truncates the tables they write to (on PostgreSQL that TRUNCATE deadlocked).
    app.extensions["opendesign.render"].close(wait=120)
    app.extensions["opendesign.search"].close()

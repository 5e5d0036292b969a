"""On a 390 px phone in real Chromium: no page is wider than the screen, the customiser's presets and sliders
work, the viewer orbits and zooms by touch, and a parameter set is saved and found again.

Phone-sized screenshots of the home, design and maker pages are written to
``$REPO/var/browser-screenshots/`` on every run, to be looked at.
"""

from __future__ import annotations

import re

import pytest

from .conftest import REPO
from .test_catalogue_browser import _wait_mesh

pytestmark = pytest.mark.slow

SHOTS = REPO / "var" / "browser-screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
PRESET_DESIGN = "hydroponic-net-pot"
#: Every element's box must lie inside the viewport: a table or header that runs off shows up here,
#: even inside a container that would let it scroll.
WIDER_THAN_VIEWPORT = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
        const box = el.getBoundingClientRect();
        if (box.width > 0 && (box.right > width + 0.5 || box.left < -0.5)) {
            wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string'
                ? '.' + el.className.trim().split(/\\s+/).join('.') : ''} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
        }
    }
    return {width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 20)};
}"""


@pytest.fixture
def phone(browser, live_server, request):  # after the server, so its connections close first (see page)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        from .conftest import FAILURES

        FAILURES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURES / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def makers(live_server, db):
    """The seed makers too (the live server imports the designs only)."""
    from opendesign.commons.makers.importer import import_makers, makers_dirs
    from tests.conftest import SEED_DESIGNS

    report = import_makers(db, makers_dirs([SEED_DESIGNS]))
    assert report.ok, report.as_dict()
    return live_server


def _fits(page) -> None:
    result = page.evaluate(WIDER_THAN_VIEWPORT)
    assert result["scrollWidth"] <= result["width"] and result["wide"] == [], f"{page.url}: {result}"


def _register(page, base: str, name: str = "phoneuser") -> None:
    page.goto(f"{base}/account/register")
    page.fill("#username", name)
    page.fill("#email", f"{name}@example.org")
    page.fill("#password", "long enough password")
    page.fill("#confirm", "long enough password")
    page.click("#register-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/account$"))


@pytest.mark.parametrize(("name", "path", "mesh"), [
    ("home", "/", False),
    ("design", "/designs/solar-panel-tilt-bracket?plate_thickness=6", True),
    ("maker", "/makers/common-ground-fab-coop", False),
])
def test_phone_screenshots_fit_the_screen(phone, makers, name, path, mesh):
    assert phone.goto(makers.base + path).ok
    if mesh:
        _wait_mesh(phone, 1)
    _fits(phone)
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
    # The header's links are all on the screen, none cut off.
    for link in phone.locator("header nav a:visible, header nav button:visible").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, link.inner_text()


def test_every_page_fits_a_phone(phone, makers):
    base = makers.base
    pages = ["/search?q=solar", "/search", "/makers", "/makers/valley-makerspace", "/licenses", "/licenses/CERN-OHL-S-2.0",
             "/account/login", "/account/register", "/designs/hand-mill-double-gear", "/designs/no-such-design"]
    for path in pages:
        assert phone.goto(base + path).status == (404 if "no-such" in path else 200), path
        _fits(phone)
    _register(phone, base)
    for path in ("/account", "/publish", "/account/makers/new", "/designs/solar-dryer-rack/1.0.0/fork",
                 f"/designs/{PRESET_DESIGN}"):
        assert phone.goto(base + path).ok, path
        _fits(phone)


def test_touch_orbits_and_pinch_zooms_the_viewer(phone, live_server):
    phone.goto(f"{live_server.base}/designs/{PRESET_DESIGN}")
    _wait_mesh(phone, 1)
    canvas = phone.locator("#viewer canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["width"] <= 390 and box["height"] <= 844 * 0.6 + 1  # room left above and below to scroll the page
    cdp = phone.context.new_cdp_session(phone)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})

    def camera():
        return phone.evaluate("window.__opendesign.camera()")

    def settled():
        phone.wait_for_timeout(700)  # the controls' damping comes to rest
        return camera()

    start = settled()
    scroll = phone.evaluate("scrollY")
    touch("touchStart", [(cx - 60, cy)])  # one finger: orbit
    for i in range(1, 11):
        touch("touchMove", [(cx - 60 + 12 * i, cy)])
    touch("touchEnd", [])
    orbited = settled()
    assert orbited["position"] != start["position"]
    assert orbited["distance"] == pytest.approx(start["distance"], rel=1e-3)  # turned around, not zoomed
    assert phone.evaluate("scrollY") == scroll  # the drag moved the model, not the page
    touch("touchStart", [(cx - 30, cy), (cx + 30, cy)])  # two fingers apart: zoom in
    for i in range(1, 11):
        touch("touchMove", [(cx - 30 - 8 * i, cy), (cx + 30 + 8 * i, cy)])
    touch("touchEnd", [])
    zoomed = settled()
    assert zoomed["distance"] < orbited["distance"] * 0.8


def test_presets_and_sliders_drive_the_customiser_on_a_phone(phone, live_server):
    from opendesign.parameters import params_hash

    phone.goto(f"{live_server.base}/designs/{PRESET_DESIGN}")
    _wait_mesh(phone, 1)
    preset = phone.locator("#presets a.preset", has_text="3 in lid")
    preset.tap()
    _wait_mesh(phone, 2)
    assert phone.input_value("#p-top_diameter") == "75" and phone.input_value("#p-height") == "65"
    phone.wait_for_function("() => document.querySelector('#presets a.preset.active')")
    assert phone.locator("#presets a.preset.active").inner_text() == "3 in lid"
    # The links follow: the address bar is the permalink, the bundle is named by the parameter hash.
    phone.wait_for_url(re.compile(r".*top_diameter=75.*"))
    with live_server.extensions["opendesign.db"].session() as s:
        from opendesign.catalogue.queries import get_version, version_detail

        values = next(p["values"] for p in version_detail(get_version(s, PRESET_DESIGN))["presets"]
                      if p["name"] == "3 in lid")
    version = phone.get_attribute("article.design", "data-version")
    assert phone.inner_text("#bundle-file") == f"{PRESET_DESIGN}-{version}-p{params_hash(values)}.zip"
    assert "top_diameter=75" in phone.get_attribute("#bundle-download", "href")
    assert "top_diameter=75" in phone.get_attribute("#downloads a.dl-stl", "href")

    # A slider sits beside each bounded number; dragging it changes the value and re-renders.
    slider = phone.locator("#p-height").locator("xpath=following-sibling::input[@type='range']")
    box = slider.bounding_box()
    slider.tap(position={"x": box["width"] * 0.85, "y": box["height"] / 2})
    height = float(phone.input_value("#p-height"))
    assert height > 80 and height == float(slider.input_value())
    _wait_mesh(phone, 3)
    phone.wait_for_function("() => !document.querySelector('#presets a.preset.active')")
    assert phone.evaluate("window.__opendesign.errors") == []
    _fits(phone)


def test_save_a_parameter_set_and_find_it_on_the_account_page(phone, live_server):
    base = live_server.base
    _register(phone, base, "setsaver")
    phone.goto(f"{base}/designs/{PRESET_DESIGN}")
    _wait_mesh(phone, 1)
    phone.locator("#presets a.preset", has_text="Deep raft").tap()
    _wait_mesh(phone, 2)
    phone.locator("#save-set summary").tap()
    phone.fill("#name", "Deep raft, balcony")
    phone.check("#public")
    phone.locator("#save-set-button").tap()
    phone.wait_for_url(re.compile(r".*/presets/[\w-]+$"))
    permalink = phone.url
    assert "“Deep raft, balcony”" in phone.inner_text("#current-set")
    assert phone.input_value("#p-height") == "75" and phone.input_value("#p-slot_rows") == "3"
    _fits(phone)
    phone.goto(f"{base}/account")
    row = phone.locator("#parameter-set-table tbody tr", has_text="Deep raft, balcony")
    assert "public" in row.inner_text()
    assert row.locator("a", has_text="Deep raft, balcony").get_attribute("href") == permalink.removeprefix(base)
    _fits(phone)
    # Anyone can open a public set's permalink; it is listed on the design page with its author.
    other = phone.context.browser.new_context(**PHONE).new_page()
    other.goto(f"{base}/designs/{PRESET_DESIGN}")
    assert "by setsaver" in other.inner_text("#saved-sets")
    other.goto(permalink)
    assert other.input_value("#p-height") == "75"
    other.context.close()

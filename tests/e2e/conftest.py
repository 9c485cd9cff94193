"""Browser fixtures: Playwright driving Debian's Chromium against pytest-django's live_server.

Reuse them from any app's browser test (`phone_page` is a phone-sized `page`; `sized` is a
page at desktop and at phone size in turn, and `looks_right(page, name)` checks it fits and
keeps a screenshot in var/screenshots/):

    pytestmark = pytest.mark.e2e

    def test_it_...(page, live_server, coordinator_user):
        login(page, live_server, "coord")   # tests.factories: password "pw", as make_user sets
        page.goto(f"{live_server.url}/somewhere/")
"""

import logging
import os
import shutil
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings

# Playwright's sync API runs an event loop in this thread; Django would refuse
# database access from the test body without this.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and shutil.which(candidate):
            return candidate
    return None


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    executable = _chromium_path()
    if executable is None:
        reason = "no Chromium found (install Debian's 'chromium' package)"
        if os.environ.get("STANDBY_REQUIRE_BROWSER"):
            pytest.fail(f"STANDBY_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(f"Browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _new_page(browser, **options):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Console errors include Content-Security-Policy violations: tests can assert none.
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    return context, page


@pytest.fixture
def page(browser):
    context, page = _new_page(browser)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A page the size of a phone held upright, with touch: how negotiators use Standby."""
    context, page = _new_page(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    yield page
    context.close()


@pytest.fixture(autouse=True)
def escalator(request):
    """The escalator clock ticking beside the live server, as `make run` starts it.

    It fires due steps and hands negotiators' SMS replies to the queue (the
    webhook only takes them in).
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("live_server")  # so the clock stops before the server and database
    from django.db import connection

    from callouts.engine import clock, watch

    stop = threading.Event()

    def run():
        try:
            while not stop.wait(0.2):
                try:
                    clock.tick()
                    watch.beat()  # as the real clock does, or pages say it has stopped
                except Exception:
                    logging.getLogger(__name__).exception("escalator tick failed")
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="escalator", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
SHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture(params=list(SIZES))
def sized(request, browser):
    """A page at one of the two sizes (the phone one with touch, as negotiators use it)."""
    width, height = SIZES[request.param]
    phone = request.param == "phone"
    context = browser.new_context(
        locale="en-GB",
        timezone_id="Europe/London",
        viewport={"width": width, "height": height},
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.size_name = request.param
    yield page
    context.close()


def looks_right(page, name):
    """No sideways scrolling, no console error; a screenshot kept for review."""
    page.wait_for_load_state("networkidle")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.size_name}.png"), full_page=True)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    # A mobile browser widens its layout viewport to fit what overflows (innerWidth grows
    # with it), so the screen's own width is the limit too.
    width = SIZES[page.size_name][0]
    assert scroll <= inner <= width, f"{name} at {page.size_name}: {scroll}px wide in {width}px"
    assert page.console_errors == [], f"{name}: {page.console_errors}"


def accessible(page, name):
    """No serious or critical axe-core violation on the page at its URL (axe-core ships in
    the axe-playwright-python package). Checked in a second tab of the same login: axe's own
    probes (inline styles the CSP blocks, as it should) are not the tested page's errors."""
    from axe_playwright_python.sync_playwright import Axe

    other = page.context.new_page()
    try:
        other.goto(page.url)
        other.wait_for_load_state("networkidle")
        results = Axe().run(other)
    finally:
        other.close()
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(n["target"][0]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name} at {page.size_name}: {bad}"

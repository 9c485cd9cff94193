"""axe-core in the browser tests: `assert_accessible(page, "#part")` runs axe-core (shipped
inside the axe-playwright-python package, nothing fetched) on the page, or on a part of it,
and fails on any violation with each rule, its impact and the elements it found.

axe's own noise stays out of the page's console errors (conftest.looks_right asserts none):
it sets inline styles as it measures, which the strict Content-Security-Policy reports, and
its style-sheet preload fetches @imported sheets from the wrong folder; it is told not to
preload (the rules used here read computed styles), and what it logs while it runs is
dropped."""

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()
OPTIONS = {"resultTypes": ["violations"], "preload": False}


def violations(page, include: str | None = None) -> list[dict]:
    context = {"include": [[include]]} if include else None
    errors = list(getattr(page, "console_errors", []))
    try:
        return _axe.run(page, context=context, options=OPTIONS).response["violations"]
    finally:
        if hasattr(page, "console_errors"):
            page.console_errors[:] = errors


def assert_accessible(page, include: str | None = None):
    found = violations(page, include)
    assert not found, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in found
    )

"""How the page looks in headless Chromium: dark mode, the phone layout, touch, axe, screenshots.

Screen size, colour scheme and touch are emulated through the DevTools protocol
(Emulation.*, Input.*); each test puts the emulation back, as the browser is shared
by the module. Screenshots land in test-artifacts/ for a person to look at, and
the README's in docs/screenshots/.
"""

from __future__ import annotations

import itertools
import shutil
import time
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from axe_selenium_python import Axe

from core.settings import Settings
from core.times import utc_now
from tests.app.browser_helpers import (
    click,
    figure,
    open_page,
    seed_week,
    severe_logs,
    text_of,
    title,
    traces,
    wait_ticks,
)
from tests.app.conftest import wait_until

pytestmark = pytest.mark.timeout(120)
DARK_GROUND, DARK_PAPER = "rgb(13, 17, 23)", "#161b22"
DEFAULT_RUN = ("symbols", "price_interval", "refresh_interval", "history_days", "window_days")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def board(dashboard_factory):
    board = dashboard_factory("sqlite", poller=False, window_days=7)
    seed_week(board.sessions, utc_now() - timedelta(seconds=2))
    return board


@pytest.fixture
def emulate(driver):
    """Set CDP emulation (colour scheme, screen); everything is reset after the test."""

    def scheme(value: str) -> None:
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": value}]},
        )

    def screen(width: int, height: int, mobile: bool) -> None:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        driver.execute_cdp_cmd(
            "Emulation.setTouchEmulationEnabled", {"enabled": mobile, "maxTouchPoints": 5}
        )

    yield scheme, screen
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    driver.execute_script("window.localStorage && localStorage.clear();")


def colours(driver) -> tuple[str, str, str]:
    """The document's theme, the body's background and the chart's paper colour."""
    return (
        driver.execute_script("return document.documentElement.dataset.theme;"),
        driver.execute_script("return getComputedStyle(document.body).backgroundColor;"),
        figure(driver, "gd.layout.paper_bgcolor"),
    )


def wait_theme(driver, theme: str) -> None:
    paper = DARK_PAPER if theme == "dark" else "#ffffff"
    wait_until(
        lambda: colours(driver)[0] == theme and colours(driver)[2] == paper,
        message=f"the {theme} theme on the page and the chart (now {colours(driver)})",
    )


def shoot(driver, path, readme: str | None = None) -> None:
    """A screenshot kept as a test artifact; with `readme`, also the README's copy of it."""
    time.sleep(0.5)  # logos and the last Patch drawn
    assert driver.save_screenshot(str(path)), f"{path} was not written"
    assert path.stat().st_size > 10_000
    print(f"screenshot: {path}")
    if readme:  # regenerated on every run, so the README never shows a page that is gone
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / readme)


def test_dark_mode_follows_the_browser_and_the_toggle_is_remembered(
    driver, board, emulate, artifacts_dir
):
    scheme, screen = emulate
    screen(1366, 900, mobile=False)
    open_page(driver, board.url)
    wait_theme(driver, "light")
    assert colours(driver)[1] == "rgb(243, 245, 248)"
    shoot(driver, artifacts_dir / "page-light-1366.png")

    scheme("dark")
    open_page(driver, board.url)
    wait_theme(driver, "dark")
    assert colours(driver)[1] == DARK_GROUND
    assert driver.find_element("id", "theme-toggle").get_attribute("aria-pressed") == "true"
    shoot(driver, artifacts_dir / "page-dark-1366.png")

    scheme("light")
    open_page(driver, board.url)
    wait_theme(driver, "light")
    click(driver, "#theme-toggle")
    wait_theme(driver, "dark")
    assert colours(driver)[1] == DARK_GROUND
    driver.refresh()
    wait_until(lambda: figure(driver, "gd && gd.data && gd.data.length"), message="the chart")
    wait_theme(driver, "dark")  # the choice outlives a reload, over the browser's light
    assert "dark" in driver.execute_script("return localStorage.getItem('theme-choice');")
    click(driver, "#theme-toggle")
    wait_theme(driver, "light")
    assert severe_logs(driver) == []


# The boxes that must not overlap at 390 px: header items, cards, controls, chart parts.
BOXES = """
var out = [];
var pick = function (css, name) {
  document.querySelectorAll(css).forEach(function (el, i) {
    var r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (r.width > 0 && r.height > 0 && s.display !== 'none' && s.visibility !== 'hidden')
      out.push({name: name + '[' + i + ']', l: r.left, t: r.top, r: r.right, b: r.bottom});
  });
};
pick('.brand', 'brand'); pick('#market-status', 'market'); pick('#updated', 'updated');
pick('#theme-toggle', 'toggle'); pick('.stock-card', 'card'); pick('.segmented', 'segments');
pick('#mode-label', 'mode'); pick('#chart .gtitle', 'chart title');
pick('#chart .modebar-container .modebar', 'modebar'); pick('#chart .legend', 'legend');
pick('#chart .nsewdrag', 'plot');
return out;
"""


def overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of boxes whose areas intersect by more than a pixel each way."""
    return [
        (a["name"], b["name"])
        for a, b in itertools.combinations(boxes, 2)
        if min(a["r"], b["r"]) - max(a["l"], b["l"]) > 1
        and min(a["b"], b["b"]) - max(a["t"], b["t"]) > 1
    ]


def swipe_up(driver, x: int, y: int, distance: int) -> None:
    """A one-finger swipe up by `distance` px from (x, y), as touch events (CDP)."""
    touch = "Input.dispatchTouchEvent"
    driver.execute_cdp_cmd(touch, {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        point = {"x": x, "y": y - distance * step // 10}
        driver.execute_cdp_cmd(touch, {"type": "touchMove", "touchPoints": [point]})
        time.sleep(0.02)
    driver.execute_cdp_cmd(touch, {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_phone_layout_fits_390_px_and_a_swipe_scrolls_the_page(
    driver, board, emulate, artifacts_dir, theme
):
    scheme, screen = emulate
    scheme(theme)
    screen(390, 844, mobile=True)
    open_page(driver, board.url)
    wait_ticks(driver, 1)
    assert driver.execute_script("return window.innerWidth;") == 390

    columns = driver.execute_script(
        "return getComputedStyle(document.getElementById('cards')).gridTemplateColumns;"
    )
    assert len(columns.split()) >= 2, columns
    assert figure(driver, "gd.getBoundingClientRect().width") >= 370, "the chart is not full width"
    assert driver.execute_script("return document.documentElement.scrollWidth;") <= 390
    boxes = driver.execute_script(BOXES)
    assert {b["name"].split("[")[0] for b in boxes} >= {"brand", "card", "chart title", "plot"}
    assert overlaps(boxes) == [], boxes
    shoot(driver, artifacts_dir / f"page-{theme}-390.png")

    click(driver, "#view-price")
    wait_until(lambda: title(driver).startswith("Price"), message="the Price view")
    chart = driver.find_element("css selector", "#chart .nsewdrag").rect
    before = driver.execute_script("return window.scrollY;")
    swipe_up(driver, int(chart["x"] + chart["width"] / 2), int(chart["y"] + 60), 250)
    wait_until(
        lambda: driver.execute_script("return window.scrollY;") > before + 100,
        timeout=5,
        message="a vertical swipe over the chart to scroll the page",
    )
    assert title(driver).startswith("Price"), "the swipe zoomed or panned the chart"
    assert "start=" not in driver.execute_script("return location.search;")
    assert severe_logs(driver) == []


SERIOUS = ("serious", "critical")
# axe-selenium-python bundles axe-core 3.1 (2018); axe-playwright-python ships a current
# axe-core 4.x, whose rules (contrast, ARIA) are what a review today would run.
AXE_CORE = files("axe_playwright_python") / "axe.min.js"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_violation(driver, board, emulate, theme):
    scheme, _ = emulate
    scheme(theme)
    for view in ("compare", "price"):
        open_page(driver, board.url + f"?view={view}")
        wait_theme(driver, theme)
        wait_until(lambda: text_of(driver, ".card-fresh"), message="the cards' numbers")
        axe = Axe(driver, script_url=str(AXE_CORE))
        axe.inject()
        assert driver.execute_script("return axe.version;").startswith("4.")
        results = axe.run()
        bad = [v for v in results["violations"] if v["impact"] in SERIOUS]
        assert bad == [], f"{theme} {view}: " + axe.report(bad)


def test_the_plot_area_is_at_least_330_px_wide_at_390_px(driver, board, emulate):
    _, screen = emulate
    screen(390, 844, mobile=True)
    for search in ("", "?view=price"):
        open_page(driver, board.url + search)
        plot = figure(driver, "gd._fullLayout._size.w")
        assert plot >= 330, f"the plot is {plot} px wide at 390 px ({search or 'compare'})"
        # The phone's chart has no drag mode, so a swipe scrolls the page (tested above).
        assert figure(driver, "gd._fullLayout.dragmode") is False


@pytest.mark.timeout(300)  # the default run's history and metadata arrive first
def test_the_readme_screenshots_show_the_default_run(
    driver, dashboard_factory, emulate, artifacts_dir
):
    # The embedded default: the simulated market's six stocks, 7 days of history, 5 s polls
    # (the fixture's own values are made for fast tests).
    defaults = {name: Settings.model_fields[name].default for name in DEFAULT_RUN}
    defaults["symbols"] = ",".join(defaults["symbols"])
    board = dashboard_factory("sqlite", **defaults)
    scheme, screen = emulate
    shots = [
        ("light", 1366, 900, "dashboard-light.png"),
        ("dark", 1366, 900, "dashboard-dark.png"),
        ("light", 390, 844, "dashboard-phone-light.png"),
        ("dark", 390, 844, "dashboard-phone-dark.png"),
    ]
    for theme, width, height, name in shots:
        scheme(theme)
        screen(width, height, mobile=width < 600)
        open_page(driver, board.url, shown=board.settings.symbols)
        wait_theme(driver, theme)
        wait_until(
            lambda: (
                driver.execute_script(
                    "return [...document.querySelectorAll('.card-fresh')]"
                    ".filter(e => e.textContent.endsWith(' s ago')).length;"
                )
                == 6
            ),
            message="every card's numbers and freshness",
        )
        # What a user sees a few seconds after the start: names, bands, each line's history.
        wait_until(
            lambda: driver.execute_script(
                "return [...document.querySelectorAll('.stock-card')].every(c =>"
                " c.querySelector('.card-name').textContent &&"
                " c.querySelector('.card-range-marker'));"
            ),
            timeout=60,
            message="every card's name and 52-week band",
        )
        wait_until(
            lambda: all(n > 100 for n in (traces(driver) or {0: 0}).values()),
            timeout=60,
            message="every line's history",
        )
        # Every stock shown, nothing clicked (cards drawn anew once passed for a click).
        state = driver.execute_script(
            "return [location.search, [...document.querySelectorAll('.stock-card')]"
            ".map(c => c.getAttribute('aria-pressed') + ' ' + c.className)];"
        )
        assert state == ["", ["true stock-card"] * 6], (name, state)
        shoot(driver, artifacts_dir / f"readme-{name}", name)

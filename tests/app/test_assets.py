"""The page's own static files: the vendored plotly.js bundle matches the one Dash would send."""

from __future__ import annotations

import re
from pathlib import Path

import plotly

ASSETS = Path(__file__).resolve().parents[2] / "assets"
VERSION = re.compile(r"plotly\.js (?:\(basic - minified\) )?v(\d+\.\d+\.\d+)")


def version_of(path: Path) -> str:
    match = VERSION.search(path.read_text(encoding="utf-8", errors="replace")[:300])
    assert match, f"no plotly.js version in the header of {path}"
    return match.group(1)


def test_the_vendored_basic_bundle_is_the_version_plotly_ships():
    # The page loads plotly.js's basic bundle (scatter, shapes, images, annotations:
    # all it draws; 1.2 MB instead of 4.8 MB). Dash's graph uses it because it
    # defines window.Plotly first; it must stay the version the Python package pins.
    vendored = sorted((ASSETS / "vendor").glob("plotly-basic-*.min.js"))
    assert len(vendored) == 1, vendored
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert version_of(vendored[0]) == version_of(full)
    assert vendored[0].name == f"plotly-basic-{version_of(full)}.min.js"
    assert (ASSETS / "vendor" / "plotly-LICENSE.txt").read_text().startswith("MIT License")

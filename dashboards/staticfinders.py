"""Serve plotly.js from the installed ``plotly`` package as a static file.

The page loads ``dashboards/plotly.min.js`` through the static files
machinery (``runserver``, ``collectstatic``, the test live server), so
charts work offline and the JavaScript always matches the package version
pinned in requirements.txt.
"""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_PATH = "dashboards/plotly.min.js"
PLOTLY_FILE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Find exactly one file, plotly.min.js, under ``dashboards/``."""

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        find_all = find_all or kwargs.get("all", False)
        if path == PLOTLY_STATIC_PATH and PLOTLY_FILE.is_file():
            return [str(PLOTLY_FILE)] if find_all else str(PLOTLY_FILE)
        return [] if find_all else None

    def list(self, ignore_patterns):
        storage = FileSystemStorage(location=str(PLOTLY_FILE.parent))
        storage.prefix = "dashboards"
        yield PLOTLY_FILE.name, storage

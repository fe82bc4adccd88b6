"""Root conftest: loads the suite's plugins.

The plugins live in `plugins/` and are plain modules so that pytest can load them
without importing torch or any other heavy package (see plugins/__init__.py).
"""

pytest_plugins = [
    "plugins.options",
    "plugins.session",
    "plugins.markers",
    "plugins.known_issues",
    "plugins.results",
    "plugins.report",
]

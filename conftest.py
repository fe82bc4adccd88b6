"""Root conftest: loads the suite's plugins (listed in plugins/__init__.py).

They are plain modules, so pytest loads them without importing torch or any other
heavy package: `pytest --collect-only` stays fast.
"""

from plugins import PLUGINS

pytest_plugins = list(PLUGINS)

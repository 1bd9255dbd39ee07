"""Root conftest: the browser fixtures and pytester (the core fixtures come through the pytest11
entry point)."""

pytest_plugins = ["core.testing_browser", "pytester"]

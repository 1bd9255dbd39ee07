"""Idmaj's built-in modules. Each is a plugin found through the ``idmaj.plugins`` entry points."""

"""Idmaj core: identity and access, establishments, detainee records, audit and the plugin system.

The core never imports a plugin; plugins reach it through the hooks in :mod:`core.hookspecs`
and the services of the core packages. The app factory is :func:`core.app.create_app`.
"""

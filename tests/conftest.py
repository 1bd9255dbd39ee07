"""The shared fixtures come from the idmaj pytest plugin (core/testing.py, entry point pytest11)."""

"""Presets: the parameter sets a designer recommends in ``design.toml`` and the ones users save.

- :mod:`.design`: ``[[presets]]`` of a manifest, validated like parameters.
- :mod:`.saved`: named parameter sets saved by signed-in users for a design
  version, private or public (the services the web pages and the API call).
"""

"""One module per area of the site; each exposes ``blueprints`` for the factory."""

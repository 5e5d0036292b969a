"""Open Know-How federation: OKH manifests in (:mod:`.importer`) and out (:mod:`.export`).

* :mod:`.manifest` -- finding and parsing ``okh.toml`` / ``okh.yml``, keys in OKH-LOSH spelling.
* :mod:`.values` -- lenient parsers for versions, licensors, dimensions, masses, readiness levels.
* :mod:`.mapping` -- a manifest in the catalogue's terms, with warnings and the fields kept unmapped.
* :mod:`.parts` -- its part tables, measures and file references.
* :mod:`.references` -- file references confined to the manifest's folder.
* :mod:`.materialise` -- the static design folder a manifest and its files make.
* :mod:`.importer` -- staging, validation and import, one transaction per manifest.
* :mod:`.extras` -- the OKH facts and unmapped fields a design keeps, for its page and its bundles.
"""

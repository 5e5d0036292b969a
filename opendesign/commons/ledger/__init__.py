"""The reciprocity ledger: contributions with evidence, their confirmation, flows up the lineage, attested makers.

* :mod:`.money` -- exact amounts in minor units, and exact splits.
* :mod:`.entries` -- recording entries (maker files, web, API) and corrections; the ledger is append-only.
* :mod:`.stewards` -- who may confirm or dispute an entry to a design.
* :mod:`.review` -- confirming and disputing entries.
* :mod:`.flows` -- how confirmed value flows up the derivation DAG.
* :mod:`.attestations` -- worker-ownership attestations, their challenges and resolutions.
* :mod:`.reports` -- a design's and a maker's ledger, qualified producers, the export.
* :mod:`.decisions` -- a catalogue operator's decisions kept in a file (the seed's).

Nothing is imported here, so :mod:`.money` stays importable from the maker-file schema.
"""

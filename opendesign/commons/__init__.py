"""The commons layer: lineage, license compatibility along every edge,
attribution, forks, makers with compliance verdicts, and reciprocity.

* :mod:`.lineage` -- the derivation DAG: ancestors, descendants, forks, families, cycle checks.
* :mod:`.edges` -- license compatibility of every lineage edge (import check, audit, allowed licenses).
* :mod:`.family` -- a family as data, Graphviz DOT and text.
* :mod:`.attribution` -- the credit chain of a version, as data and text.
* :mod:`.fork` -- fork a catalogue version into a new design folder.
* :mod:`.makers` -- maker files, their import and listings.
* :mod:`.compliance` -- production verdicts (rules from :mod:`opendesign.licenses`).
* :mod:`.reciprocity` -- what makers give back.

Importing this package registers the license check with the catalogue
importer, so every front end that imports designs (CLI, web) refuses a
derivative whose license its parents do not allow.
"""

from . import edges

edges.install()

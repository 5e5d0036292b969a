"""Extension points of the CLI that other areas fill in.

``after_import`` runs after ``opendesign import`` committed the designs, with
``(app, paths, report)``; the commons layer imports makers there.
"""

after_import: list = []

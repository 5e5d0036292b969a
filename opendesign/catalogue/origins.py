"""Where a design version came from, and so how far its model code is trusted.

Only the operator's own seed (folders imported from the configured
``designs_dir``) is trusted to run when the render sandbox cannot isolate it
(see :mod:`opendesign.trust`); every other origin is someone else's code.
"""

from __future__ import annotations

from pathlib import Path

#: Imported from the configured ``designs_dir``: the operator's own seed.
SEED = "seed"
#: Imported from another folder (a download, a colleague's checkout...).
FOLDER = "folder"
#: Published from the web form (or forked on the web).
WEB = "web"
#: Published through the JSON API with a token.
API = "api"
#: Taken in from an Open Know-How manifest (reserved for the OKH import).
OKH = "okh"

ORIGINS = (SEED, FOLDER, WEB, API, OKH)
#: Origins whose model code may run without filesystem isolation.
TRUSTED = frozenset({SEED})

DESCRIPTIONS = {
    SEED: "imported from the operator's designs folder",
    FOLDER: "imported from a folder outside the designs folder",
    WEB: "published on the web",
    API: "published through the API",
    OKH: "taken in from an Open Know-How manifest",
}


def folder_origin(path: str | Path, designs_dir: str | Path) -> str:
    """:data:`SEED` if the design folder *path* lies inside *designs_dir*, else :data:`FOLDER`."""
    folder = Path(path).resolve()
    seed = Path(designs_dir).resolve()
    return SEED if folder == seed or seed in folder.parents else FOLDER

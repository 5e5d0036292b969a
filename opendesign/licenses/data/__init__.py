"""Rule data for each license the project describes, grouped by where it comes from.

The registry reads :data:`LICENSES`; adding a license means adding one entry to
one of these modules.  Every rule names the clause it rests on in a comment, and
the same citation goes into ``clauses`` so verdicts can quote it.
"""

from __future__ import annotations

from ..model import License
from .creative_commons import LICENSES as _CREATIVE_COMMONS
from .hardware import LICENSES as _HARDWARE
from .software import LICENSES as _SOFTWARE

#: Every described license, in the order listings show them.
LICENSES: tuple[License, ...] = _HARDWARE + _CREATIVE_COMMONS + _SOFTWARE

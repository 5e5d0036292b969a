"""Software licenses that designs use for firmware, scripts or whole projects.

Their product obligations only bite when a product carries a copy of the work,
typically firmware; a physical part is not a copy of the code.
"""

from __future__ import annotations

from ..model import ALLOWED, License

_GPL_PRODUCTS = (
    # §6: conveying object code requires the Corresponding Source (alongside,
    # by written offer, or from a network server).
    "If a product carries covered code in object form (e.g. firmware), give its recipients "
    "the Corresponding Source or a written offer for it (§6).",
    # §6, User Products: Installation Information must come with it.
    "For consumer products, include the information needed to install modified firmware (§6).",
)

GPL_3_OR_LATER = License(
    id="GPL-3.0-or-later",
    name="GNU General Public License v3.0 or later",
    url="https://www.gnu.org/licenses/gpl-3.0.html",
    family="strongly-reciprocal",
    # §4: keep copyright and license notices intact; §5(a): mark modifications.
    attribution_required=True,
    # §5(c): the entire work, as a whole, under this License.
    share_alike=True,
    derivatives_allowed=True,
    # §4: "You may charge any price or no price for each copy."
    commercial_use=ALLOWED,
    # §14: "or later" lets a reuser follow version 3 alone, so a derivative may
    # drop the option; it cannot gain it back from a v3-only parent.
    compatible=("GPL-3.0-only",),
    product_obligations=_GPL_PRODUCTS,
    clauses={
        "attribution": "§4, §5(a)",
        "share_alike": "§5(c)",
        "derivatives": "§5",
        "commercial_use": "§4",
        "products": "§6",
        "source": "§5(c), §6",
        "compatible": "§14",
    },
)

GPL_3_ONLY = License(
    id="GPL-3.0-only",
    name="GNU General Public License v3.0 only",
    url="https://www.gnu.org/licenses/gpl-3.0.html",
    family="strongly-reciprocal",
    attribution_required=True,
    share_alike=True,
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    product_obligations=_GPL_PRODUCTS,
    clauses=GPL_3_OR_LATER.clauses | {"compatible": "§5(c)"},
)

MIT = License(
    id="MIT",
    name="MIT License",
    url="https://opensource.org/license/mit",
    family="permissive",
    # The single condition: the notice goes with all copies or substantial portions.
    attribution_required=True,
    share_alike=False,
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    product_obligations=(
        "If a product carries a copy of the work (e.g. firmware), include its copyright "
        "and permission notice (notice condition).",
    ),
    clauses={"attribution": "notice condition", "products": "notice condition"},
)

APACHE_2 = License(
    id="Apache-2.0",
    name="Apache License 2.0",
    url="https://www.apache.org/licenses/LICENSE-2.0",
    family="permissive",
    # §4(a)-(d): license copy, modification notices, retained notices, NOTICE file.
    attribution_required=True,
    share_alike=False,
    # §2: derivative works may be licensed on other terms (§4, last paragraph).
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    product_obligations=(
        "If a product carries the work in any form (e.g. firmware), include the license "
        "and the NOTICE file (§4(a), §4(d)).",
    ),
    clauses={
        "attribution": "§4(a)-(d)",
        "derivatives": "§2, §4",
        "commercial_use": "§2, §3",
        "products": "§4(a), §4(d)",
    },
)

BSD_2 = License(
    id="BSD-2-Clause",
    name='BSD 2-Clause "Simplified" License',
    url="https://opensource.org/license/bsd-2-clause",
    family="permissive",
    # Clauses 1-2: keep the notice in source and binary redistributions.
    attribution_required=True,
    share_alike=False,
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    product_obligations=(
        "If a product carries the work in binary form (e.g. firmware), reproduce the copyright "
        "notice and conditions in its documentation (clause 2).",
    ),
    clauses={"attribution": "clauses 1-2", "products": "clause 2"},
)

BSD_3 = License(
    id="BSD-3-Clause",
    name='BSD 3-Clause "New" or "Revised" License',
    url="https://opensource.org/license/bsd-3-clause",
    family="permissive",
    # Clauses 1-2 as BSD-2-Clause; clause 3 forbids implying endorsement.
    attribution_required=True,
    share_alike=False,
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    product_obligations=BSD_2.product_obligations
    + ("Do not use the authors' names to endorse or promote the product without permission (clause 3).",),
    clauses={"attribution": "clauses 1-2", "products": "clauses 2-3"},
)

LICENSES: tuple[License, ...] = (GPL_3_OR_LATER, GPL_3_ONLY, MIT, APACHE_2, BSD_2, BSD_3)

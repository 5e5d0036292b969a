"""Open-hardware licenses: CERN OHL v2 (S, W, P) and TAPR OHL 1.0.

Section numbers follow the published texts: https://ohwr.org/cern_ohl_s_v2.txt
(and ``_w_v2``, ``_p_v2``), https://tapr.org/the-tapr-open-hardware-license/.
"""

from __future__ import annotations

from ..model import ALLOWED, License

CERN_OHL_S = License(
    id="CERN-OHL-S-2.0",
    name="CERN Open Hardware Licence Version 2 - Strongly Reciprocal",
    url="https://ohwr.org/cern_ohl_s_v2.txt",
    family="strongly-reciprocal",
    # §3.1 and §3.3(a): keep all Notices; §3.3(b): add a dated modification notice.
    attribution_required=True,
    # §3.3(d): modified Covered Source is licensed, as a whole, under this Licence.
    share_alike=True,
    # §3.2: modifying is allowed (other than Notices).
    derivatives_allowed=True,
    # §2.1 governs Making and Conveying Products; §7.1's patent grant covers "sell".
    commercial_use=ALLOWED,
    # §8.3 only allows later versions of the same -S variant; none is published.
    # §1.2's "Compatible Licence" list is not an outbound list: it decides which
    # parts may enter a design as Available Components (§1.7(a)).
    compatible=(),
    product_obligations=(
        # §4: complete source or its Source Location to each recipient.
        "Give every recipient of a product the complete source, or tell them where to get it (§4).",
        # §1.8: complete source is everything needed to Make the product;
        # only Available Components may be left out, with enough information to source them.
        "The complete source covers the whole product; only Available Components may be left out, "
        "with enough information to obtain them (§1.8).",
        # §4, last sentence.
        "If a notice in the source asks for it, show the source location on the product, "
        "its packaging or its documentation (§4).",
    ),
    clauses={
        "attribution": "§3.1, §3.3(a)-(b)",
        "share_alike": "§3.3(d)",
        "derivatives": "§3.2",
        "commercial_use": "§2.1, §7.1",
        "products": "§4, §1.8",
        # §3.2: modifying means undertaking to publish the modified source from a
        # Source Location when products are conveyed without it; §3.3(c).
        "source": "§3.2, §3.3(c)-(d)",
        "compatible": "§3.3(d), §8.3",
        # §4: the source location goes with every product; §3.1 and §4: the notices stay with it.
        "source_location": "§4",
        "notice": "§3.1, §4",
    },
)

CERN_OHL_W = License(
    id="CERN-OHL-W-2.0",
    name="CERN Open Hardware Licence Version 2 - Weakly Reciprocal",
    url="https://ohwr.org/cern_ohl_w_v2.txt",
    family="weakly-reciprocal",
    # §3.1, §3.3(a)-(b): as for -S.
    attribution_required=True,
    # §3.3(d): modified Covered Source stays under this Licence, but External
    # Material it only interfaces with keeps its own license (§1.8, §4.2).
    share_alike=True,
    derivatives_allowed=True,
    # §2.1, §7.1.
    commercial_use=ALLOWED,
    # §8.3: Covered Source under -W may be treated as licensed under -S (when its
    # Available Components also qualify under -S), so a derivative may move to -S.
    # Not the other way round.  §1.2 names earlier CERN OHL versions as well, but
    # as a list of licenses whose parts may be combined in, not relicensed to.
    compatible=("CERN-OHL-S-2.0",),
    product_obligations=(
        # §4.1.
        "Give every recipient of a product the complete source of the covered design, "
        "or tell them where to get it (§4.1).",
        # §4.2: the source of External Material need not be included.
        "Source of external material the design only interfaces with need not be published (§4.2).",
        # §4.3.
        "Products may carry your own terms only if they do not restrict recipients' rights "
        "to the covered source (§4.3).",
        # §4.1, last sentence.
        "If a notice in the source asks for it, show the source location on the product, "
        "its packaging or its documentation (§4.1).",
    ),
    clauses={
        "attribution": "§3.1, §3.3(a)-(b)",
        "share_alike": "§3.3(d)",
        "derivatives": "§3.2",
        "commercial_use": "§2.1, §7.1",
        "products": "§4.1-§4.3",
        "source": "§3.2, §3.3(c)-(d)",
        "compatible": "§8.3",
        # §4.1: as for -S §4.
        "source_location": "§4.1",
        "notice": "§3.1, §4.1",
    },
)

CERN_OHL_P = License(
    id="CERN-OHL-P-2.0",
    name="CERN Open Hardware Licence Version 2 - Permissive",
    url="https://ohwr.org/cern_ohl_p_v2.txt",
    family="permissive",
    # §3.1, §3.3(a)-(b): keep Notices, mark modifications.
    attribution_required=True,
    # §3.4: modified source may go out under other terms, with a copy of this Licence.
    share_alike=False,
    derivatives_allowed=True,
    # §2.1, §6.1.
    commercial_use=ALLOWED,
    product_obligations=(
        # §4.
        "Make sure recipients of a product can see the notices (credits, license) that apply to it (§4).",
    ),
    clauses={
        "attribution": "§3.1, §3.3(a)-(b)",
        "derivatives": "§3.2, §3.4",
        "commercial_use": "§2.1, §6.1",
        "products": "§4",
    },
)

TAPR_OHL = License(
    id="TAPR-OHL-1.0",
    name="TAPR Open Hardware License v1.0",
    url="https://tapr.org/the-tapr-open-hardware-license/",
    family="strongly-reciprocal",
    # §4.1: keep every Licensor's copyright and other notices; §5.1: products keep them too.
    attribution_required=True,
    # §3: modifications become part of the Documentation and are subject to this
    # Agreement; §4.2(a): state that they are licensed under it; §4.2(c).
    share_alike=True,
    derivatives_allowed=True,
    # §1.1 and §5.2: distributing Products includes selling them.
    commercial_use=ALLOWED,
    # §6 only lets a later TAPR OHL version be chosen; none is published.
    compatible=(),
    product_obligations=(
        # §5.2.
        "Ship the documentation with each product, or a written offer or a download URL "
        "valid for at least three years (§5.2).",
        # §5.1.
        "Keep the licensors' notices on the product, e.g. copyright notices on circuit boards (§5.1).",
        # §3: a good-faith duty; a failed address ends it.
        "When distributing a modified design or products of it, email the modified documentation "
        "to every licensor who gave an email address (§3).",
        # §4.2(d).
        "A published modification must include everything needed to make products, "
        "including Gerber and CAD/CAM files (§4.2(d)).",
    ),
    clauses={
        "attribution": "§4.1, §5.1",
        "share_alike": "§3, §4.2(a)",
        "derivatives": "§3",
        "commercial_use": "§1.1, §5.2",
        "products": "§5.1-§5.2",
        "source": "§3, §4.2",
        "compatible": "§6",
    },
    note="Covers documentation and physical products, not software or firmware (§1.6).",
)

LICENSES: tuple[License, ...] = (CERN_OHL_S, CERN_OHL_W, CERN_OHL_P, TAPR_OHL)

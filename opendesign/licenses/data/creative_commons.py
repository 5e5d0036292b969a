"""Creative Commons 4.0 licenses, CC0, and the Peer Production License (a CC derivative).

Section numbers follow the 4.0 legal code at
``https://creativecommons.org/licenses/<elements>/4.0/legalcode``.  In every
4.0 license §2(a)(1) is the grant, §3(a) the attribution condition.
"""

from __future__ import annotations

from ..model import ALLOWED, NON_COMMERCIAL, WORKER_OWNED_ONLY, License

# §3(a)(1): credit the creators, keep the notices, link the license, and say
# whether the material was modified.  Same wording in every BY license.
_ATTRIBUTION = "§3(a)(1)"

CC_BY = License(
    id="CC-BY-4.0",
    name="Creative Commons Attribution 4.0 International",
    url="https://creativecommons.org/licenses/by/4.0/legalcode",
    family="permissive",
    attribution_required=True,
    # §3(a)(4): an adapter's license only has to let recipients honour this one.
    share_alike=False,
    # §2(a)(1)(B): produce, reproduce and Share Adapted Material.
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    clauses={"attribution": _ATTRIBUTION, "derivatives": "§2(a)(1)(B), §3(a)(4)"},
)

CC_BY_SA = License(
    id="CC-BY-SA-4.0",
    name="Creative Commons Attribution-ShareAlike 4.0 International",
    url="https://creativecommons.org/licenses/by-sa/4.0/legalcode",
    family="strongly-reciprocal",
    attribution_required=True,
    # §3(b)(1): the adapter's license must be a CC license with the same License
    # Elements (this version or later) or a BY-SA Compatible License; §3(b)(3):
    # no added terms that restrict the adapter's license.
    share_alike=True,
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    # §1(c): "BY-SA Compatible License" is what creativecommons.org/compatiblelicenses
    # lists.  GPLv3 was added in 2015 and Free Art License 1.3 (SPDX: LAL-1.3) in
    # 2014, both one-way: BY-SA adaptations may go to them, not the reverse.
    compatible=("GPL-3.0-only", "GPL-3.0-or-later", "LAL-1.3"),
    clauses={
        "attribution": _ATTRIBUTION,
        "share_alike": "§3(b)(1), §3(b)(3)",
        "derivatives": "§2(a)(1)(B)",
        "source": "§3(b)(1)",
        "compatible": "§1(c), §3(b)(1)",
    },
)

CC_BY_NC = License(
    id="CC-BY-NC-4.0",
    name="Creative Commons Attribution-NonCommercial 4.0 International",
    url="https://creativecommons.org/licenses/by-nc/4.0/legalcode",
    family="non-commercial",
    attribution_required=True,
    # No ShareAlike element, but §3(a)(4): the adapter's license must not stop
    # recipients complying with this one, so an adaptation cannot open commercial use.
    share_alike=False,
    derivatives_allowed=True,
    # §2(a)(1): every right is granted "for NonCommercial purposes only";
    # §1(i): not primarily intended for commercial advantage or monetary compensation.
    commercial_use=NON_COMMERCIAL,
    clauses={
        "attribution": _ATTRIBUTION,
        "derivatives": "§2(a)(1)(B), §3(a)(4)",
        "commercial_use": "§1(i), §2(a)(1)",
    },
)

CC_BY_NC_SA = License(
    id="CC-BY-NC-SA-4.0",
    name="Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International",
    url="https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode",
    family="non-commercial",
    attribution_required=True,
    # §3(b)(1): same License Elements (BY-NC-SA), this version or later, or a
    # BY-NC-SA Compatible License (§1(c)); Creative Commons lists none.
    share_alike=True,
    derivatives_allowed=True,
    # §1(k), §2(a)(1): NonCommercial purposes only.
    commercial_use=NON_COMMERCIAL,
    compatible=(),
    clauses={
        "attribution": _ATTRIBUTION,
        "share_alike": "§3(b)(1), §3(b)(3)",
        "derivatives": "§2(a)(1)(B)",
        "commercial_use": "§1(k), §2(a)(1)",
        "source": "§3(b)(1)",
        "compatible": "§1(c), §3(b)(1)",
    },
)

CC_BY_ND = License(
    id="CC-BY-ND-4.0",
    name="Creative Commons Attribution-NoDerivatives 4.0 International",
    url="https://creativecommons.org/licenses/by-nd/4.0/legalcode",
    family="no-derivatives",
    attribution_required=True,
    share_alike=False,
    # §2(a)(1)(B): Adapted Material may be produced and reproduced, but not Shared.
    derivatives_allowed=False,
    commercial_use=ALLOWED,
    clauses={"attribution": _ATTRIBUTION, "derivatives": "§2(a)(1)(B)"},
)

CC0 = License(
    id="CC0-1.0",
    name="Creative Commons Zero v1.0 Universal",
    url="https://creativecommons.org/publicdomain/zero/1.0/legalcode",
    family="permissive",
    # §2: waiver of all copyright and related rights; §3: fallback licence without
    # conditions.  Credit is courteous, not owed.
    attribution_required=False,
    share_alike=False,
    derivatives_allowed=True,
    commercial_use=ALLOWED,
    clauses={"derivatives": "§2, §3", "commercial_use": "§2, §3"},
    note="§4(a): trademark and patent rights are not waived.",
)

PPL = License(
    id="LicenseRef-PPL",
    name="Peer Production License",
    url="https://wiki.p2pfoundation.net/Peer_Production_License",
    family="copyfair",
    # §4(e): keep copyright notices and credit the Original Author; §3(b): label changes.
    attribution_required=True,
    # The license summary's ShareAlike term; in the legal code, §4(a) lets the Work
    # be distributed only under this License, and §8(b) re-offers it to every
    # recipient of an Adaptation.
    share_alike=True,
    # §3(b), §3(d): Adaptations may be made and distributed.
    derivatives_allowed=True,
    # §4(b): no use directed toward commercial advantage, except §4(c): by a
    # worker-owned business or collective that distributes all financial gain
    # among its worker-owners; §4(d): never by a privately owned business that
    # profits from waged labour.
    commercial_use=WORKER_OWNED_ONLY,
    compatible=(),
    clauses={
        "attribution": "§4(e), §3(b)",
        "share_alike": "§4(a), §8(b)",
        "derivatives": "§3(b), §3(d)",
        "commercial_use": "§4(b)-(d)",
        "source": "§4(a)",
    },
    note="Derived from CC BY-NC-SA 3.0; also called the Copyfarleft Public License.",
)

LICENSES: tuple[License, ...] = (CC_BY, CC_BY_SA, CC_BY_NC, CC_BY_NC_SA, CC_BY_ND, CC0, PPL)

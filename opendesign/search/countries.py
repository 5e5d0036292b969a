"""English names of the countries makers are most often in, so ``germany`` finds ``DE``.

Deliberately small (no dependency): an unlisted code is still indexed and
filterable by its code, it only lacks a searchable name.
"""

from __future__ import annotations

NAMES = {
    "AR": "Argentina", "AT": "Austria", "AU": "Australia", "BD": "Bangladesh", "BE": "Belgium",
    "BF": "Burkina Faso", "BO": "Bolivia", "BR": "Brazil", "CA": "Canada", "CH": "Switzerland",
    "CL": "Chile", "CN": "China", "CO": "Colombia", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark",
    "EC": "Ecuador", "EE": "Estonia", "EG": "Egypt", "ES": "Spain", "ET": "Ethiopia", "FI": "Finland",
    "FR": "France", "GB": "United Kingdom Britain", "GH": "Ghana", "GR": "Greece", "GT": "Guatemala",
    "HU": "Hungary", "ID": "Indonesia", "IE": "Ireland", "IL": "Israel", "IN": "India", "IT": "Italy",
    "JP": "Japan", "KE": "Kenya", "KR": "Korea", "LK": "Sri Lanka", "MA": "Morocco", "MW": "Malawi",
    "MX": "Mexico", "MY": "Malaysia", "MZ": "Mozambique", "NG": "Nigeria", "NL": "Netherlands Holland",
    "NO": "Norway", "NP": "Nepal", "NZ": "New Zealand", "PE": "Peru", "PH": "Philippines",
    "PK": "Pakistan", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "RW": "Rwanda", "SE": "Sweden",
    "SI": "Slovenia", "SN": "Senegal", "TH": "Thailand", "TR": "Turkey", "TZ": "Tanzania", "UA": "Ukraine",
    "UG": "Uganda", "US": "United States USA America", "UY": "Uruguay", "VN": "Vietnam",
    "ZA": "South Africa", "ZM": "Zambia", "ZW": "Zimbabwe",
}


def country_name(code: str | None) -> str:
    """*code* followed by its name when known, e.g. ``DE Germany``."""
    code = (code or "").upper()
    name = NAMES.get(code)
    return f"{code} {name}" if name else code

"""WTForms for every form that changes something; each carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from opendesign.commons.makers import CONTRIBUTION_KINDS, LEGAL_FORMS


class RegisterForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(3, 64)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=300)])
    password = PasswordField("Password", validators=[DataRequired(), Length(8, 1024)])
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "the passwords differ")])


class LoginForm(FlaskForm):
    login = StringField("Username or e-mail", validators=[DataRequired(), Length(max=300)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PostForm(FlaskForm):
    """A button that only needs its CSRF token (log out, revoke)."""


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(1, 100)])
    scopes = StringField("Scopes", validators=[DataRequired(), Length(max=1000)],
                         description="Comma-separated: publish:<slug>, publish:*, makers:<slug>, makers:*, "
                                     "presets:<slug>, presets:*, steward:<slug>, steward:*, challenge:<maker-slug>, "
                                     "challenge:*")


class PublishForm(FlaskForm):
    archive = FileField("Design folder (.zip)", validators=[FileRequired("choose a zip of your design folder")],
                        description="A zip of a design folder: design.toml, model.py, README.md (+ bom.csv, images).")


class ForkForm(FlaskForm):
    slug = StringField("New slug", validators=[DataRequired(), Length(2, 64)],
                       description="Lowercase words joined by hyphens, e.g. solar-dryer-xl")
    title = StringField("Title", validators=[Optional(), Length(3, 120)])
    license = StringField("License", validators=[Optional(), Length(max=200)],
                          description="Leave empty for the parent's own license")


# The maker forms carry no validators of their own: what they hold is checked by the maker-file
# schema (opendesign.commons.makers), so a form, the API and a file give the same errors. Each
# turns its text inputs into the values a maker file would hold (raw()).

def _text(value: str | None) -> str:
    return (value or "").strip()


def _optional(value: str | None) -> str | None:
    return _text(value) or None


def _number(value: str | None) -> float | str | None:
    """A number typed in a field; text that is not one is passed on, for the schema to name."""
    text = _text(value)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


class MakerForm(FlaskForm):
    """Register a maker organisation (the fields of a maker file, without productions)."""

    slug = StringField("Slug", description="Lowercase words joined by hyphens, e.g. example-coop")
    name = StringField("Name")
    legal_form = SelectField("Legal form", choices=list(LEGAL_FORMS), validate_choice=False,
                             description="The compliance verdicts of your productions turn on it")
    country = StringField("Country", description="ISO 3166-1 alpha-2 code, e.g. DE, KE, BR")
    website = StringField("Website", description="https://…, optional")
    description = TextAreaField("Description")

    def raw(self) -> dict:
        return {"slug": _text(self.slug.data), "name": _text(self.name.data), "legal_form": self.legal_form.data,
                "country": _text(self.country.data), "website": _optional(self.website.data),
                "description": _text(self.description.data)}


def _decimal(value: str | None) -> Decimal | str | None:
    """An exact amount typed in a field (NaN and infinities too, for the schema to refuse by name)."""
    text = _text(value)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def _whole(value: str | None) -> int | str | None:
    """A whole number typed in a field; other text is passed on, for the schema to name."""
    text = _text(value)
    if not text:
        return None
    return int(text) if re.fullmatch(r"[+-]?\d{1,12}", text) else text


def _tristate(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _list(value: str | None) -> list[str] | None:
    items = [item for item in re.split(r"\s+", _text(value)) if item]
    return items or None


class ProductionForm(FlaskForm):
    """Claim a production: one ``[[productions]]`` entry of a maker file."""

    design = StringField("Design", description="A catalogue version as slug@version, e.g. solar-dryer@1.0.0")
    modified = BooleanField("We produce a modified design")
    modified_source = StringField("Modified source",
                                  description="Where the modified source is published: a URL, or slug@version "
                                              "of a catalogue derivative")
    attribution = BooleanField("We credit the design and its authors", default=True)
    price = StringField("Price", description="Optional; with a currency")
    currency = StringField("Currency", description="ISO 4217 code, e.g. EUR, USD, KES")
    regions = StringField("Regions", description="Country codes or EU, EEA, WORLD; comma-separated")
    source_location = StringField("Source location", description="Where buyers find the complete source (CERN OHL "
                                                                 "v2 §4): a URL, or slug@version of this catalogue")
    notice = SelectField("The product carries the design's notice", choices=["not recorded", "yes", "no"],
                         validate_choice=False, description="With the source location, on the product, its "
                                                            "packaging or its documentation")
    units = StringField("Units made", description="Optional; with the period they were made in")
    period_start = StringField("Period from", render_kw={"type": "date", "placeholder": "YYYY-MM-DD"})
    period_end = StringField("Period to", render_kw={"type": "date", "placeholder": "YYYY-MM-DD"})

    def raw(self) -> dict:
        raw = {"design": _text(self.design.data), "modified": bool(self.modified.data),
               "modified_source": _text(self.modified_source.data), "attribution": bool(self.attribution.data),
               "price": _number(self.price.data), "currency": _optional(self.currency.data),
               "regions": [r for r in re.split(r"[\s,]+", _text(self.regions.data)) if r],
               "source_location": _text(self.source_location.data), "notice": _tristate(self.notice.data),
               "units": _whole(self.units.data), "period_start": _optional(self.period_start.data),
               "period_end": _optional(self.period_end.data)}
        return {k: v for k, v in raw.items() if v is not None or k in ("price", "currency")}


class ContributionForm(FlaskForm):
    """Record a contribution: one ``[[contributions]]`` entry of a maker file."""

    design = StringField("Design", description="A catalogue design slug (or slug@version)")
    kind = SelectField("Kind", choices=list(CONTRIBUTION_KINDS), validate_choice=False)
    amount = StringField("Amount", description="Money or hardware value in the currency; hours; improvements "
                                               "(default 1)")
    currency = StringField("Currency", description="For money and hardware: ISO 4217, e.g. EUR")
    date = StringField("Date", render_kw={"type": "date", "placeholder": "YYYY-MM-DD"})
    evidence = TextAreaField("Evidence", description="One per line: a URL (https://…) of the transaction, receipt, "
                                                     "merged pull request or published improvement, and/or the "
                                                     "sha256 of a receipt file", render_kw={"rows": 2})
    note = StringField("Note")
    corrects = StringField("Corrects entry", description="Optional: the id of your entry this one replaces "
                                                         "(the ledger keeps both)")

    def raw(self) -> dict:
        raw = {"design": _text(self.design.data), "kind": self.kind.data, "amount": _decimal(self.amount.data),
               "currency": _optional(self.currency.data), "date": _text(self.date.data),
               "evidence": _list(self.evidence.data), "note": _text(self.note.data),
               "corrects": _optional(self.corrects.data)}
        return {k: v for k, v in raw.items() if v is not None or k in ("amount", "currency")}


class ParameterSetForm(FlaskForm):
    """Save the customiser's current values as a named parameter set.

    Only the CSRF token is checked here; the values (hidden ``p.<name>`` fields
    the customiser keeps in step) and the fields are checked by
    :func:`opendesign.presets.saved.save_set`, as for the API.
    """

    name = StringField("Name", description="e.g. “Deep trays for herbs”")
    description = StringField("Note", description="Optional: what it is for, what to print it in")
    public = BooleanField("Public: list it on the design page with your name")

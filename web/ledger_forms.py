"""Forms of the reciprocity ledger: reviews, stewards, attestations, challenges and their resolution.

Like the maker forms, they carry no validators of their own beyond the CSRF
token: the ledger's services check what they hold, so the web, the API and
files give the same errors.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField


class ReviewForm(FlaskForm):
    """Confirm (with an optional note) or dispute (with a reason) a ledger entry."""

    reason = TextAreaField("Reason", description="Required to dispute: what the evidence does not show",
                           render_kw={"rows": 2})
    next = HiddenField()


class StewardForm(FlaskForm):
    username = StringField("Username", description="The account to name as a steward of this design")


class AttestationForm(FlaskForm):
    """A worker-ownership attestation: one ``[[attestations]]`` entry of a maker file."""

    evidence = StringField("Evidence", description="URL of the bylaws, a cooperative registry entry or a "
                                                   "certificate")
    registry_id = StringField("Registry id")
    valid_from = StringField("Valid from", render_kw={"type": "date", "placeholder": "YYYY-MM-DD"})
    valid_until = StringField("Valid until", render_kw={"type": "date", "placeholder": "YYYY-MM-DD"})

    def raw(self) -> dict:
        return {"kind": "worker-ownership", "evidence": (self.evidence.data or "").strip(),
                "registry_id": (self.registry_id.data or "").strip(),
                "valid_from": (self.valid_from.data or "").strip(), "valid_until": (self.valid_until.data or "").strip()}


class ChallengeForm(FlaskForm):
    reason = TextAreaField("Reason", description="What the attestation or its evidence does not show",
                           render_kw={"rows": 2})


class ResolveForm(FlaskForm):
    outcome = SelectField("Outcome", choices=["dismissed", "upheld"], validate_choice=False,
                          description="dismissed: the attestation stands; upheld: it no longer counts")
    reason = TextAreaField("Reason", render_kw={"rows": 2})

"""What the design page shows about parameter sets: presets, saved sets, the bundle's name.

- The designer's presets (``[[presets]]``) as one-click choices: each is a
  link to its parameter permalink (works without JavaScript) carrying its
  values for the customiser script; the one matching the current values is
  marked.
- Saved parameter sets of the design: the public ones with their author, and
  the viewer's own (private ones too).
- The name of the bundle for the current values: ``<slug>-<version>.zip``, or
  ``<slug>-<version>-p<hash>.zip`` for a custom set.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendesign.bundles.builder import bundle_name
from opendesign.models import DesignVersion, ParameterSet
from opendesign.parameters import ParameterError, canonicalise, params_hash
from opendesign.presets.design import Preset, presets_of
from opendesign.presets.saved import listed_sets, set_view

from .auth import current_user
from .forms import ParameterSetForm


def form_value(value: Any) -> str:
    """A canonical value as a form field and query string hold it."""
    from .pages import _query_value

    return _query_value(value)


def changed_query(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, str]:
    """The query string of a parameter set: only what differs from the defaults."""
    return {k: form_value(v) for k, v in values.items() if defaults.get(k) != v}


def design_presets(session: Session, view) -> list[Preset]:
    """The presets of a cached version view (read once per version: a released version never changes)."""
    presets = getattr(view, "presets", None)
    if presets is None:
        manifest = session.scalar(select(DesignVersion.manifest).where(DesignVersion.id == view.id))
        presets = view.presets = presets_of(manifest, view.parameters)
    return presets


def _version_part(session: Session, slug: str, view) -> SimpleNamespace:
    """What the page shows of a version's presets and defaults, kept on the cached view like the rest of it."""
    part = getattr(view, "preset_part", None)
    if part is None:
        defaults = canonicalise(view.parameters, {})
        links = [{"name": p.name, "description": p.description, "values": p.values,
                  "url": url_for("designs.version_page", slug=slug, version=view.version,
                                 **changed_query(p.values, defaults)),
                  "values_json": json.dumps({k: form_value(v) for k, v in p.values.items()})}
                 for p in design_presets(session, view)]
        part = view.preset_part = SimpleNamespace(defaults=defaults, presets=links)
    return part


def canonical_or_none(view, values: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return canonicalise(view.parameters, values)
    except ParameterError:
        return None


def bundle_file(slug: str, version: str, canonical: dict[str, Any] | None, defaults: dict[str, Any]) -> str | None:
    """The file name the bundle of *canonical* downloads as (None for values that do not validate)."""
    if canonical is None:
        return None
    custom = params_hash(canonical) if canonical != defaults else None
    return f"{bundle_name(slug, version, custom_hash=custom)}.zip"


def saved_set_row(saved: ParameterSet, viewer) -> dict[str, Any]:
    """One saved set with its links, for the design and account pages and the API."""
    view = set_view(saved)
    slug, version = view["design"], view["version"]
    query = {k: form_value(v) for k, v in view["changed"].items()}
    return {**view, "mine": viewer is not None and saved.user_id == viewer.id, "query": query,
            "url": url_for("presets.show", slug=slug, version=version, public_id=saved.public_id),
            "bundle_url": url_for("designs.bundle", slug=slug, version=version, **query),
            "bundle_file": f"{bundle_name(slug, version, custom_hash=saved.params_hash if query else None)}.zip",
            "values_url": url_for("designs.version_page", slug=slug, version=version, **query)}


def preset_context(session: Session, facts, view, values: dict[str, Any]) -> dict[str, Any]:
    """Template context of the design page's preset, saved-set and bundle-name parts."""
    part = _version_part(session, facts.slug, view)
    defaults = part.defaults
    current = canonical_or_none(view, values)
    viewer = current_user()
    saved = [{**row._asdict(), "mine": viewer is not None and row.user_id == viewer.id,
              "url": url_for("presets.show", slug=facts.slug, version=row.version, public_id=row.id)}
             for row in listed_sets(session, facts.id, viewer)]
    return {"presets": [{**p, "active": current == p["values"]} for p in part.presets],
            "saved_sets": saved, "current_set": None, "save_errors": {},
            "save_form": ParameterSetForm(formdata=None) if viewer is not None else None,
            "save_values": {k: form_value(v) for k, v in values.items()},
            "bundle_file": bundle_file(facts.slug, view.version, current, defaults),
            # The query string of the current values: only what differs from the defaults.
            "changed_query": changed_query(current, defaults) if current is not None else {}}

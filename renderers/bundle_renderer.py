"""The production :class:`~opendesign.bundles.artifacts.Renderer`: bundles rendered by the render service.

The core's bundle builder receives this renderer instead of importing the render
layer. Files come from the render cache; what is missing is rendered in this
process's warm pool, or, with ``broker_url`` set, by the Celery workers as jobs
on the ``batch`` queue (:class:`~renderers.job_client.JobRenderer`). Provenance
is the render service's own (:mod:`renderers.provenance`), so a bundled file and
a single download are the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opendesign.bundles.artifacts import ProvenanceRecord, Rendered, from_info

from .job_client import JobRenderer
from .provenance import embed, for_design


class ServiceRenderer:
    """Renders bundles through the render service (and its workers), reusing its cache."""

    def __init__(self, db, settings, *, queue: str = "batch"):
        self.db, self.settings = db, settings
        self.client = JobRenderer(settings, db, queue=queue)

    def __call__(self, ref: str, parameters: Mapping[str, Any], formats: Sequence[str],
                 quality: str) -> list[Rendered]:
        infos = self.client.render(ref, dict(parameters), list(formats), quality)
        return [from_info(info) for info in infos]

    def embed_provenance(self, data: bytes, fmt: str, record: ProvenanceRecord) -> bytes:
        return embed(data, fmt, provenance_of(record))


def provenance_of(record: ProvenanceRecord):
    return for_design(record.slug, record.version, record.license, title=record.title,
                      authors=list(record.authors), base_url=record.base_url, part=record.part,
                      parameters=dict(record.parameters) if record.parameters is not None else None)

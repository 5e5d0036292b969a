"""A pool that runs ``build()`` in this very process: no sandbox, no fork.

For the benchmark's in-process floor and for trusted code only — never for
designs from the catalogue.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import Future

from .errors import RenderError
from .pool import RenderJob, RenderOutput
from .sandbox.names import expected_files


class InProcessPool:
    """Runs ``build()`` in this very process, unconfined. For benchmarks and trusted code only."""

    #: Nothing is isolated: the render service lets only seed designs through (opendesign.trust).
    isolated = False

    def submit(self, job: RenderJob) -> Future[RenderOutput]:
        future: Future = Future()
        try:
            future.set_result(self.render(job))
        except BaseException as exc:  # noqa: BLE001
            future.set_exception(exc)
        return future

    def render(self, job: RenderJob) -> RenderOutput:
        from .sandbox import job as job_module  # imports cadquery

        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="opendesign-inproc-") as outdir, \
                tempfile.TemporaryDirectory(prefix="opendesign-inproc-in-") as indir:
            # A static design's parts are read from files, as the sandbox's job folder holds them.
            part_files = {}
            for name, rel in job.part_files.items():
                target = os.path.join(indir, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(job.files[rel])
                part_files[name] = target
            try:
                result = job_module.build_and_export(dict(job.files), dict(job.params), list(job.shape_formats),
                                                     job.tolerance, job.angular_tolerance, list(job.parts), outdir,
                                                     kind=job.kind, part_files=part_files,
                                                     max_triangles=job.max_triangles or None)
            except job_module.JobFailure as exc:
                raise RenderError(exc.category, exc.message, traceback=exc.tb) from None
            parts = result["parts"]
            files = {}
            for name in expected_files(parts, list(job.shape_formats)):
                with open(os.path.join(outdir, name), "rb") as f:
                    files[name] = f.read()
        return RenderOutput(parts=tuple(parts), files=files, seconds=time.monotonic() - started,
                            build_seconds=result["build_seconds"], export_seconds=result["export_seconds"])

    def close(self) -> None:
        pass

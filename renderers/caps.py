"""How many triangles a conversion may take, derived from the helper's memory and time.

Converting a mesh costs memory and CPU in proportion to its triangles, by an
amount that depends on the format: parsing and measuring (every render), then
writing STL, GLB or 3MF (trimesh builds an XML tree for 3MF, the costliest).
The figures below were measured with ``benchmarks/convert.py --caps``: the
helper's peak address space (``VmPeak``, what ``RLIMIT_AS`` bounds) and CPU
time for meshes of 100 k and 400 k triangles, one format at a time; the slope
between the two sizes is the cost per triangle, the intercept the fixed cost
(Python, numpy, trimesh, lxml). :data:`MARGIN` covers what one measurement on
one machine cannot (other data, allocator fragmentation, a slower CPU).

A render whose triangle count (read from the STL headers, see
:func:`renderers.spool.stl_triangles`) is over :func:`max_triangles` fails
before the helper starts, as ``too-large``; the helper's own limits stop
whatever the estimate missed, with the same category.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import TOO_LARGE, RenderError

MiB = 1024 * 1024

#: Address space of the helper before any mesh: interpreter and imports (measured intercepts
#: 259-267 MiB, rounded up).
BASE_BYTES = 300 * MiB
#: Peak address space per triangle, by format requested alone (parse and stats included).
#: Measured (helper VmPeak, 80 k -> 330 k triangles): stl 568 (CAD-like sphere) / 624 (triangle
#: soup), glb 568 / 712, 3mf 2052 (sphere; the soup's 3MF did not finish in 15 min). STEP and SVG
#: are only checked and stamped here: their cost is the meshes' parse and stats, as for stl.
BYTES_PER_TRIANGLE = {"stl": 624, "glb": 712, "3mf": 2052, "step": 624, "svg": 624}
#: CPU seconds per triangle, same measurement: stl 3.8e-6 / 4.75e-6, glb 4.8e-6 / 5.8e-6,
#: 3mf 1.83e-4 (sphere; trimesh's 3MF writer grows faster than linearly: 5.2 s at 82 k, 50 s at
#: 328 k triangles, so this slope overestimates below 328 k and the helper's CPU limit stops
#: what it underestimates above).
SECONDS_PER_TRIANGLE = {"stl": 4.75e-6, "glb": 5.8e-6, "3mf": 1.83e-4, "step": 4.75e-6, "svg": 4.75e-6}
#: Headroom over the measured costs.
MARGIN = 1.3


def max_triangles(formats: Iterable[str], memory_bytes: int, cpu_seconds: float, parts: int = 0) -> int:
    """The most triangles a conversion to *formats* may take within *memory_bytes* and *cpu_seconds*.

    Formats are written one after another, the memory of one freed before the
    next, so memory is bounded by the costliest format and time by their sum;
    a multi-part model is written twice (the whole, then each part).
    """
    formats = list(formats) or ["stl"]
    per_memory = max(BYTES_PER_TRIANGLE[f] for f in formats) * MARGIN
    by_memory = max(0, memory_bytes - BASE_BYTES) / per_memory
    per_second = sum(SECONDS_PER_TRIANGLE[f] for f in formats) * MARGIN * (2 if parts else 1)
    by_time = cpu_seconds / per_second
    return int(min(by_memory, by_time))


def check(triangles: int, formats: list[str], *, memory_bytes: int, cpu_seconds: float, limit: int,
          parts: int = 0, ref: str | None = None) -> None:
    """Refuse (``too-large``) a mesh over the configured *limit* or over what its conversion may cost."""
    if triangles > limit:
        raise RenderError(TOO_LARGE, f"the model has {triangles} triangles, over the limit of {limit} "
                                     "(render_max_triangles); use a coarser quality or simplify the model", ref=ref)
    cap = max_triangles(formats, memory_bytes, cpu_seconds, parts)
    if triangles > cap:
        raise RenderError(TOO_LARGE, f"the model has {triangles} triangles; converting it to "
                                     f"{', '.join(formats)} within {memory_bytes // MiB} MiB and {cpu_seconds:g} s "
                                     f"of CPU allows at most {cap}; use a coarser quality, fewer formats "
                                     "(3MF costs the most) or simplify the model", ref=ref)

"""Names of the files a job leaves in its work folder (shared by host, supervisor and worker)."""

from __future__ import annotations

#: Output file stem of the whole model; parts are ``part-<name>``.
COMBINED_STEM = "model"
#: Formats the worker writes from the B-rep; meshes always leave as STL.
SHAPE_FORMATS = ("step", "svg")


def part_stem(part: str | None) -> str:
    return COMBINED_STEM if part is None else f"part-{part}"


def expected_files(parts: list[str], formats: list[str]) -> list[str]:
    """The file names a successful job leaves, in a fixed order.

    One STL per part (the host joins them into the whole model), or one
    ``model.stl``; then, per requested shape format, the whole model and each part.
    """
    stems = [part_stem(p) for p in parts] or [COMBINED_STEM]
    names = [f"{stem}.stl" for stem in stems]
    for fmt in SHAPE_FORMATS:
        if fmt in formats:
            names.extend(f"{part_stem(p)}.{fmt}" for p in [None, *parts])
    return names

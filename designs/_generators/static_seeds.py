"""Write the part files of the static seed designs (run by hand; the files are committed).

The static seeds stand for designs that arrive as files (STEP, STL) rather than
code; these are made with CadQuery so the commons can say where they came from::

    python designs/_generators/static_seeds.py

This folder starts with ``_``, so ``opendesign import`` does not take it for a design.
"""

from __future__ import annotations

from pathlib import Path

import cadquery as cq

DESIGNS = Path(__file__).resolve().parent.parent


def compost_bin_corner() -> cq.Shape:
    """A 90-degree steel angle with slotted bolt holes joining two pallets at a corner."""
    leg, height, t, hole = 60.0, 120.0, 3.0, 9.0
    angle = (cq.Workplane("XY").polyline([(0, 0), (leg, 0), (leg, t), (t, t), (t, leg), (0, leg)]).close()
             .extrude(height).edges("|Z").fillet(0.5))
    for z in (25.0, height - 25.0):
        angle = angle.cut(cq.Workplane("XZ").center(leg / 2 + t / 2, z).slot2D(hole + 10.0, hole).extrude(-t * 3))
        angle = angle.cut(cq.Workplane("YZ").center(leg / 2 + t / 2, z).slot2D(hole + 10.0, hole).extrude(t * 3))
    return angle.val()


def bucket_bulkhead() -> tuple[cq.Shape, cq.Shape]:
    """A flanged through-wall tube joining two stacked buckets, and its press-fit ring."""
    flange_d, bore, tube_d, wall_stack = 44.0, 12.0, 20.0, 8.0
    body = (cq.Workplane("XY").polygon(6, flange_d).extrude(4.0)
            .faces(">Z").workplane().circle(tube_d / 2).extrude(wall_stack + 6.0)
            .faces(">Z").workplane().hole(bore))
    ring = cq.Workplane("XY").circle(flange_d / 2 - 2.0).extrude(4.0).faces(">Z").workplane().hole(tube_d - 0.3)
    return body.val(), ring.val()


def main() -> None:
    corner = DESIGNS / "pallet-compost-bin-corner" / "parts"
    corner.mkdir(parents=True, exist_ok=True)
    compost_bin_corner().exportStep(str(corner / "corner-bracket.step"))
    bulkhead = DESIGNS / "bucket-filter-bulkhead" / "parts"
    bulkhead.mkdir(parents=True, exist_ok=True)
    body, ring = bucket_bulkhead()
    body.exportStl(str(bulkhead / "bulkhead.stl"), 0.05, 0.2, False)
    ring.exportStl(str(bulkhead / "lock-ring.stl"), 0.05, 0.2, False)


if __name__ == "__main__":
    main()

"""Hydroponic net pot.

A tapered, slotted cup with a rim that hangs in a hole in a raft or a channel
lid. The slots let roots grow out into the nutrient solution while the cup
holds the plant and its growing medium (clay pebbles, rockwool, coco coir).
Sized by the hole it hangs in, so it fits standard 2 in and 3 in lids or
home-made rafts.
"""

import math

import cadquery as cq

V = cq.Vector
RIM_T = 2.4           # thickness of the hanging rim


def _slot_box(r0, r1, width, z0, z1, angle_deg):
    """A radial box from radius r0 to r1 at the given polar angle."""
    b = cq.Solid.makeBox(r1 - r0, width, z1 - z0, pnt=V(r0, -width / 2, z0))
    return b.rotate(V(0, 0, 0), V(0, 0, 1), angle_deg)


def frustum(sides, r0, r1, z0, z1):
    """Regular polygonal frustum from planar faces (corner radius r0 at z0, r1 at z1)."""
    ang = [2 * math.pi * k / sides for k in range(sides)]
    lo = [V(r0 * math.cos(a), r0 * math.sin(a), z0) for a in ang]
    hi = [V(r1 * math.cos(a), r1 * math.sin(a), z1) for a in ang]
    faces = [cq.Face.makeFromWires(cq.Wire.makePolygon(lo, close=True)),
             cq.Face.makeFromWires(cq.Wire.makePolygon(hi, close=True))]
    for k in range(sides):
        j = (k + 1) % sides
        faces.append(cq.Face.makeFromWires(cq.Wire.makePolygon([lo[k], lo[j], hi[j], hi[k]], close=True)))
    return cq.Solid.makeSolid(cq.Shell.makeShell(faces)).fix()


def build(params):
    d_top = float(params["top_diameter"])
    h = float(params["height"])
    ratio = float(params["bottom_ratio"])
    w = float(params["wall_thickness"])
    n = int(params["slot_count"])
    sw = float(params["slot_width"])
    rows = int(params["slot_rows"])
    rim = float(params["rim_width"])

    rt = d_top / 2                      # outer corner radius at the top of the cup
    rb = rt * ratio                     # outer corner radius at the bottom
    floor = max(w, 1.6)
    # keep the ribs between slots at least 1.5 mm wide at the bottom of the cup
    n = max(3, min(n, int(2 * math.pi * (rb - w) / (2 * (sw + 1.5)))))
    sides = 2 * n                       # one slot per facet, rows alternate facets
    cos_half = math.cos(math.pi / sides)
    slope = math.atan2(rt - rb, h)
    wi = w / math.cos(slope)            # horizontal wall thickness of the tapered wall
    body_h = h - RIM_T

    # The cup is a 2n-sided frustum: every facet is flat, so each slot is a clean
    # rectangular window and the geometry stays exact and quick to build.
    outer = cq.Workplane("XY").add(frustum(sides, rb, rt - (rt - rb) * RIM_T / h, 0.0, body_h))
    rim_disc = cq.Workplane("XY").workplane(offset=body_h).circle(rt + rim).extrude(RIM_T)
    pot = outer.union(rim_disc)

    def inner_r(z):                     # corner radius of the cavity at height z
        return rb + (rt - rb) * z / h - wi / cos_half

    z_top = h + 1.0
    cavity = cq.Workplane("XY").add(frustum(sides, inner_r(floor), inner_r(z_top), floor, z_top))
    pot = pot.cut(cavity)
    cutters = []

    z_lo, z_hi = floor + 3.0, body_h - 3.0
    ring = 3.0
    band = (z_hi - z_lo - ring * (rows - 1)) / rows
    step = 360.0 / sides
    if band > 3.0:
        for r in range(rows):
            z0 = z_lo + r * (band + ring)
            for k in range(n):
                ang = (2 * k + (r % 2) + 0.5) * step          # centre of a facet
                cutters.append(_slot_box(inner_r(0) * cos_half - 1.0, rt + 2.0, sw, z0, z0 + band, ang))
    # radial slots in the floor under every fourth facet, clear of the wall, and
    # starting far enough out that neighbouring slots never meet in the middle
    step_rad = math.radians(step)
    r_in = max(5.0, (sw + 1.5) / (4 * step_rad))
    r_out = inner_r(floor) * cos_half - 2.0
    if r_out - r_in > 3.0:
        for j in range(0, sides - 3, 4):
            cutters.append(_slot_box(r_in, r_out, sw, -1.0, floor + 1.0, (j + 0.5) * step))
    if cutters:
        # clean=False: skip face re-merging, which costs more than the cut itself here
        pot = pot.cut(cq.Workplane("XY").add(cq.Compound.makeCompound(cutters)), clean=False)
    return pot

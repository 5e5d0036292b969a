"""Soil block maker: mould, pusher with seed dibbles, and knob.

Soil blocks replace plastic seedling trays: a mould is pressed into wet,
compost-rich potting mix and the pusher ejects free-standing cubes of soil,
each with a dimple for the seed. Roots air-prune at the block faces instead
of circling a pot, so transplants do not suffer shock, and no plastic cell
trays are bought or thrown away.
"""

import math

import cadquery as cq

PLATE_T = 6.0
CLEAR = 0.6          # pad-to-cell clearance per side
KNOB_D = 36.0
KNOB_H = 28.0
PEG_D = 10.0
PEG_H = 4.0


def grid_points(rows, cols, pitch):
    return [((i - (cols - 1) / 2) * pitch, (j - (rows - 1) / 2) * pitch)
            for i in range(cols) for j in range(rows)]


def build(params):
    cell = float(params["cell_size"])
    rows = int(params["rows"])
    cols = int(params["columns"])
    depth = float(params["cell_depth"])
    wall = float(params["wall_thickness"])
    dimple = float(params["seed_dimple_depth"])

    pitch = cell + wall
    outer_x = cols * cell + (cols + 1) * wall
    outer_y = rows * cell + (rows + 1) * wall
    pts = grid_points(rows, cols, pitch)

    # ---- mould: grid of open cells with two handle tabs at the top
    mould = (cq.Workplane("XY").rect(outer_x, outer_y)
             .pushPoints(pts).rect(cell, cell).extrude(depth))
    lip_h = 5.0
    handle_len = 32.0
    handle_w = min(outer_y, 60.0)
    rim = (cq.Workplane("XY").workplane(offset=depth - lip_h)
           .rect(outer_x + 2 * handle_len, handle_w).extrude(lip_h)
           .cut(cq.Workplane("XY").workplane(offset=depth - lip_h - 1)
                .rect(outer_x - 2 * wall, outer_y).extrude(lip_h + 2)))
    mould = mould.union(rim)
    # finger holes in the handles: a slot on wide moulds, a round hole on narrow ones
    hole_w = min(16.0, handle_w - 8.0)
    slot_len = min(handle_w - 16.0, 40.0)
    finger = (cq.Workplane("XY").workplane(offset=depth - lip_h - 1)
              .pushPoints([(s * (outer_x / 2 + handle_len / 2 + 2.0), 0) for s in (-1, 1)]))
    if slot_len > hole_w + 2.0:
        finger = finger.slot2D(slot_len, hole_w, angle=90)
    else:
        finger = finger.circle(hole_w / 2)
    mould = mould.cut(finger.extrude(lip_h + 2))
    # bevel the bottom edge of every cell so the mould cuts into the soil mix
    bevel = min(1.5, wall / 2 - 0.4)
    if bevel > 0.3:
        mould = mould.faces("<Z").edges().chamfer(bevel)

    # ---- pusher: plate on the bed, one pad per cell pointing up, dibble on each pad
    pad = cell - 2 * CLEAR
    pusher = cq.Workplane("XY").rect(outer_x, outer_y).extrude(PLATE_T)
    pusher = pusher.union(cq.Workplane("XY").workplane(offset=PLATE_T - 0.01)
                          .pushPoints(pts).rect(pad, pad).extrude(depth + 1.0))
    if dimple > 0:
        top = PLATE_T + depth + 1.0 - 0.01
        base_d = min(16.0, pad * 0.45)
        tip_d = max(3.0, base_d * 0.3)
        for x, y in pts:
            cone = cq.Solid.makeCone(base_d / 2, tip_d / 2, dimple + 0.01, pnt=cq.Vector(x, y, top))
            pusher = pusher.union(cq.Workplane("XY").add(cone))
    # blind socket for the knob peg, in the face that faces the user
    pusher = pusher.cut(cq.Workplane("XY").workplane(offset=-1).circle(PEG_D / 2 + 0.15).extrude(PEG_H + 1.5))

    # ---- knob: printed peg-up, pressed or glued into the pusher socket
    knob = cq.Workplane("XY").circle(KNOB_D / 2).extrude(KNOB_H)
    knob = knob.faces("<Z").edges().fillet(4.0)
    knob = knob.union(cq.Workplane("XY").workplane(offset=KNOB_H - 0.01).circle(PEG_D / 2).extrude(PEG_H))

    return {"mould": mould, "pusher": pusher, "knob": knob}

"""Slot-together compost bin panel.

Four identical panels make a square bin: each panel has a half-height notch
from the top near one end and from the bottom near the other, so the panels
interlock at the corners like an egg crate, with no screws or hardware.
Staggered vent slots let air into the heap for aerobic composting; a hand
hole near the top makes the panels easy to lift off when turning the heap.
"""

import math

import cadquery as cq

NOTCH_CLEARANCE = 1.0   # total, so wet swollen plywood still slides
HAND_LEN = 110.0
HAND_W = 32.0


def build(params):
    w = float(params["panel_width"])
    h = float(params["panel_height"])
    t = float(params["sheet_thickness"])
    slot_len = float(params["vent_slot_length"])
    slot_w = float(params["vent_slot_width"])
    pitch = float(params["vent_row_pitch"])
    inset = float(params["corner_inset"])
    dogbones = bool(params["dogbones"])

    notch_w = t + NOTCH_CLEARANCE
    nx = w / 2 - inset                       # notch centre lines at +-nx
    margin = max(40.0, slot_w * 2)
    field_x = nx - notch_w / 2 - margin      # vents stay clear of the notches
    hand_y = h / 2 - 30.0 - HAND_W / 2
    field_top = hand_y - HAND_W / 2 - margin * 0.6
    field_bot = -h / 2 + margin

    # staggered (brick-bond) rows of vent slots
    pts = []
    gap = max(slot_w * 1.5, 25.0)
    step = slot_len + gap
    y = field_bot + slot_w / 2
    row = 0
    while y <= field_top - slot_w / 2 and field_x > slot_len / 2:
        off = (step / 2) if row % 2 else 0.0
        n = int(math.floor((2 * field_x - slot_len) / step))
        start = -n * step / 2 + off
        for i in range(n + 1):
            x = start + i * step
            if abs(x) + slot_len / 2 <= field_x:
                pts.append((x, y))
        y += pitch
        row += 1

    # The panel is built from horizontal bands, one per vent row, glued along
    # shared faces and never re-merged (clean=False). The solid is identical,
    # but each planar face carries only one row of rounded slots, which keeps
    # tessellation fast (mesh time grows with the square of the curved holes
    # per face).
    rows = sorted({p[1] for p in pts})
    cuts = [-h / 2] + [(a + b) / 2 for a, b in zip(rows, rows[1:])] + [h / 2]
    bands = []
    for i in range(len(cuts) - 1):
        y0, y1 = cuts[i], cuts[i + 1]
        band = cq.Workplane("XY").center(0, (y0 + y1) / 2).rect(w, y1 - y0)
        holes = [p for p in pts if y0 < p[1] < y1]
        if holes:
            band = band.pushPoints([(x, y - (y0 + y1) / 2) for x, y in holes]).slot2D(slot_len, slot_w)
        if y0 < hand_y < y1 and hand_y - HAND_W / 2 > 0:
            band = band.pushPoints([(0, hand_y - (y0 + y1) / 2)]).slot2D(HAND_LEN, HAND_W)
        bands.append(band.extrude(t).val())
    panel = cq.Workplane("XY").add(bands[0])
    if len(bands) > 1:
        panel = panel.union(cq.Workplane("XY").add(cq.Compound.makeCompound(bands[1:])),
                            glue=True, clean=False)

    # corner notches: from the top at the left end, from the bottom at the right end
    notch_h = h / 2 + 0.5 * NOTCH_CLEARANCE
    cut = (cq.Workplane("XY").workplane(offset=-1)
           .pushPoints([(-nx, h / 2 - notch_h / 2 + 0.5), (nx, -h / 2 + notch_h / 2 - 0.5)])
           .rect(notch_w, notch_h + 1.0).extrude(t + 2))
    if dogbones:
        # 6.35 mm router bit: relieve the two inner corners at the bottom of each notch
        r = 3.3
        yb_left = h / 2 - notch_h
        yb_right = -h / 2 + notch_h
        corners = [(-nx - notch_w / 2 + r * 0.7, yb_left + r * 0.7), (-nx + notch_w / 2 - r * 0.7, yb_left + r * 0.7),
                   (nx - notch_w / 2 + r * 0.7, yb_right - r * 0.7), (nx + notch_w / 2 - r * 0.7, yb_right - r * 0.7)]
        cut = cut.union(cq.Workplane("XY").workplane(offset=-1).pushPoints(corners).circle(r).extrude(t + 2))
    return panel.cut(cut, clean=False)

"""Adjustable tilt bracket for a solar PV panel.

A laser- or plasma-cut steel quadrant bolts to a roof rail or a ground frame;
an arm carrying the panel pivots on a hinge bolt at the quadrant's corner and
is pinned with a second bolt through one of a row of index holes, one per tilt
angle. Re-pin it a few times a year (steeper in winter, flatter in summer)
for 5-10 % more energy than a fixed mount.
"""

import math

import cadquery as cq


def _pt(r, deg):
    a = math.radians(deg)
    return (r * math.cos(a), r * math.sin(a))


def build(params):
    t_min = float(params["tilt_min"])
    t_max = float(params["tilt_max"])
    step = float(params["tilt_step"])
    R = float(params["index_radius"])
    t = float(params["plate_thickness"])
    bolt = float(params["bolt_diameter"])
    arm_len = float(params["arm_length"])

    hole = bolt + 1.0                         # clearance hole
    m = max(1.6 * hole, hole / 2 + 2 * t)     # edge distance around holes
    base = 2.2 * m                            # depth of the mounting foot
    # keep at least 3 mm of steel between neighbouring index holes
    step = max(step, math.degrees((hole + 3.0) / R))
    angles = []
    a = t_min
    while a <= t_max + 1e-6:
        angles.append(a)
        a += step
    top = angles[-1] + math.degrees(m / R)    # sector ends one margin past the last hole

    # ---- quadrant plate
    ro = R + m
    mid = top / 2
    q = (cq.Workplane("XY").moveTo(-m, -base).lineTo(ro, -base).lineTo(ro, 0)
         .threePointArc(_pt(ro, mid), _pt(ro, top))
         .lineTo(*_pt(m, top))
         .threePointArc(_pt(m, (top + 180) / 2), (-m, 0))
         .close())
    q = q.pushPoints([(0, 0)] + [_pt(R, a) for a in angles]).circle(hole / 2)
    # slotted foot holes: +-10 mm adjustment along the rail
    slot_len = hole + 20.0
    q = q.pushPoints([(R * 0.2, -base / 2 - m * 0.1), (R * 0.85, -base / 2 - m * 0.1)]).slot2D(slot_len, hole)
    # lightening window inside the sector, well clear of the hinge and the index holes
    r_in, r_out = m + hole * 2.0, R - hole * 1.5
    a0, a1 = 8.0, top - 14.0
    if r_out - r_in > 25 and a1 - a0 >= 10:
        q = (q.moveTo(*_pt(r_in, a0)).lineTo(*_pt(r_out, a0))
             .threePointArc(_pt(r_out, (a0 + a1) / 2), _pt(r_out, a1))
             .lineTo(*_pt(r_in, a1)).close())
    quadrant = q.extrude(t)

    # ---- arm: a flat bar with rounded ends, hinge hole, index pin hole and panel slots
    arm_w = 2 * m
    arm_len = max(arm_len, R + 4 * m + 80.0)
    arm = cq.Workplane("XY").center(arm_len / 2, 0).slot2D(arm_len, arm_w)
    arm = arm.pushPoints([(m - arm_len / 2, 0), (m + R - arm_len / 2, 0)]).circle(hole / 2)
    # two long slots take the panel frame bolts at any hole spacing
    s_len = min(120.0, (arm_len - R - 3 * m) - 10.0)
    if s_len > hole + 5:
        x_s = arm_len / 2 - m - s_len / 2
        arm = arm.pushPoints([(x_s, 0)]).slot2D(s_len, hole)
    arm = arm.extrude(t)

    return {"quadrant": quadrant, "arm": arm}

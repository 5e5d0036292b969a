"""Hooked shredder blade for a small plastic (bottle cap) shredder.

Blades like this are stacked on two counter-rotating hexagonal shafts, with
spacers between them, in the cutting box of a community plastic-recycling
shredder. Each tooth has a hooked cutting face that grabs caps and lids and
shears them against the blade on the other shaft, and a long spiral back
that pushes material down into the next bite. Shredded flakes go on to
extrusion or injection moulding machines.
"""

import math

import cadquery as cq


def _p(r, a):
    return (r * math.cos(a), r * math.sin(a))


def build(params):
    od = float(params["outer_diameter"])
    n = int(params["tooth_count"])
    t = float(params["thickness"])
    hook = float(params["tooth_depth"])
    rake = math.radians(float(params["rake_angle"]))
    af = float(params["hex_across_flats"])

    ro = od / 2
    hook = min(hook, ro * 0.5)                  # deep teeth on small blades leave no hub
    rr = ro - hook                              # root radius
    # keep at least 8 mm of steel between the hex corners and the gullets
    af = min(af, (rr - 8.0) * 2 * math.cos(math.pi / 6))
    pitch = 2 * math.pi / n
    # the cutting face leans forward by the rake angle: its foot trails the tip by delta
    delta = math.atan2(hook * math.tan(rake), rr)
    g = min(hook * 0.3, 5.0)                    # gullet radius
    gamma = g / rr                              # angle taken by the gullet

    def foot(k):                                # bottom of tooth k's cutting face
        return k * pitch - delta

    wp = cq.Workplane("XY")
    start = _p(rr, foot(-1) + gamma)            # start of tooth 0's back spiral
    wp = wp.moveTo(*start)
    for k in range(n):
        tip = k * pitch
        a0 = foot(k - 1) + gamma
        # spiral back: radius grows steadily from the root to the tip
        pts = []
        steps = 6
        for i in range(1, steps + 1):
            s = i / steps
            pts.append(_p(rr + (ro - rr) * s ** 1.15, a0 + (tip - a0) * s))
        wp = wp.spline(pts, includeCurrent=True)
        # hooked cutting face, then a round gullet into the next tooth's back
        face_foot = _p(rr + g, foot(k))
        wp = wp.lineTo(*face_foot)
        nxt = _p(rr, foot(k) + gamma) if k < n - 1 else start
        wp = wp.threePointArc(_p(rr - g * 0.35, foot(k) + gamma * 0.45), nxt)
    wp = wp.close()
    # hexagonal bore for the shaft, flats square to the first tooth
    wp = wp.polygon(6, af / math.cos(math.pi / 6))
    return wp.extrude(t)

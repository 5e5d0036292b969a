"""Compound (double) involute gear for a two-stage hand-mill reduction.

Derived from hand-mill-spur-gear 1.0.0: the same true-involute tooth
generator, used twice. A large gear and a small pinion of the same module are
made as one piece, so a crank pinion -> large gear -> pinion -> mill gear train
gives a big reduction in a compact gearbox. The compound gear runs as an
idler on a fixed axle, either on two 608 skate bearings or on a plain bore.
"""

import math

import cadquery as cq

V = cq.Vector


def _inv(alpha):
    """The involute function inv(a) = tan(a) - a."""
    return math.tan(alpha) - alpha


def _polar(radius, angle, z=0.0):
    return V(radius * math.cos(angle), radius * math.sin(angle), z)


def gear_wire(module, teeth, pressure_angle_deg, backlash=0.0, flank_points=6):
    """Closed wire of an external involute spur gear, centred on the origin."""
    alpha = math.radians(pressure_angle_deg)
    r = module * teeth / 2.0                 # pitch radius
    rb = r * math.cos(alpha)                 # base radius
    ra = r + module                          # addendum (tip) radius
    rf = r - 1.25 * module                   # dedendum (root) radius
    # half of the tooth's angular thickness at the pitch circle, less backlash
    half_pitch = (math.pi * module / 2.0 - backlash / 2.0) / (2.0 * r)
    # polar angle (from the tooth centre line) where the flank leaves the base circle
    flank0 = half_pitch + _inv(alpha)

    r_start = max(rb, rf)
    t_start = math.sqrt(max((r_start / rb) ** 2 - 1.0, 0.0))
    t_end = math.sqrt((ra / rb) ** 2 - 1.0)
    involute = []  # (radius, angular offset from the tooth centre line), root -> tip
    for i in range(flank_points + 1):
        t = t_start + (t_end - t_start) * i / flank_points
        x = rb * (math.cos(t) + t * math.sin(t))
        y = rb * (math.sin(t) - t * math.cos(t))
        involute.append((math.hypot(x, y), flank0 - math.atan2(y, x)))
    radial = rf < rb  # below the base circle the flank is a radial line

    def flank_foot(c, side):
        return _polar(rf, c + side * flank0) if radial else _polar(involute[0][0], c + side * involute[0][1])

    step = 2.0 * math.pi / teeth
    edges = []
    for k in range(teeth):
        c = k * step
        lead = [_polar(rad, c - off) for rad, off in involute]
        trail = [_polar(rad, c + off) for rad, off in reversed(involute)]
        if radial:
            edges.append(cq.Edge.makeLine(flank_foot(c, -1), lead[0]))
        edges.append(cq.Edge.makeSpline(lead))
        edges.append(cq.Edge.makeThreePointArc(lead[-1], _polar(ra, c), trail[0]))
        edges.append(cq.Edge.makeSpline(trail))
        if radial:
            edges.append(cq.Edge.makeLine(trail[-1], flank_foot(c, 1)))
        edges.append(cq.Edge.makeThreePointArc(flank_foot(c, 1), _polar(rf, c + step / 2.0),
                                               flank_foot(c + step, -1)))
    return cq.Wire.assembleEdges(edges)


def bore_wire(bore, keyway):
    """A bore, optionally with a DIN 6885-style keyway notch on the -X side."""
    r = bore / 2.0
    if not keyway or bore < 6.0:
        return cq.Wire.makeCircle(r, V(0, 0, 0), V(0, 0, 1))
    key_w = max(2.0, round(bore / 4.0))
    key_d = max(1.0, round(bore * 0.12, 1))
    sx = math.sqrt(r * r - (key_w / 2.0) ** 2)
    pts = [V(-sx, key_w / 2.0, 0), V(-(r + key_d), key_w / 2.0, 0),
           V(-(r + key_d), -key_w / 2.0, 0), V(-sx, -key_w / 2.0, 0)]
    edges = [cq.Edge.makeLine(a, b) for a, b in zip(pts, pts[1:])]
    edges.append(cq.Edge.makeThreePointArc(pts[-1], V(r, 0, 0), pts[0]))
    return cq.Wire.assembleEdges(edges)


BEARING_OD = 22.0    # 608 skate bearing
BEARING_W = 7.0
BEARING_FIT = 0.15   # radial press-fit allowance for FDM


def _holes_ring(inner, outer, limit=8):
    """Circle wires of a ring of lightening holes between two radii."""
    width = outer - inner
    if width < 8.0:
        return []
    mid = (inner + outer) / 2.0
    hole_d = width * 0.75
    n = int(min(limit, math.floor(2 * math.pi * mid / (hole_d + 4.0))))
    if n < 3:
        return []
    return [cq.Wire.makeCircle(hole_d / 2.0, _polar(mid, 2 * math.pi * (i + 0.5) / n), V(0, 0, 1))
            for i in range(n)]


def build(params):
    m = float(params["module"])
    z1 = int(params["large_teeth"])
    z2 = int(params["small_teeth"])
    pa = float(params["pressure_angle"])
    f1 = float(params["large_face_width"])
    f2 = float(params["small_face_width"])
    backlash = float(params["backlash"])
    mount = params["mounting"]
    axle = float(params["axle_diameter"])

    if z2 >= z1:                       # the pinion must be the smaller of the two
        z2 = max(8, z1 - 4)
    root1 = m * (z1 - 2.5)
    root2 = m * (z2 - 2.5)
    tip2 = m * (z2 + 2)

    use_bearings = mount == "608-bearings" and root2 - 2 * max(m, 2.0) >= BEARING_OD + 1.0
    if use_bearings:
        bore = 10.0                    # clearance for an 8 mm axle; only the bearings touch it
    else:
        bore = max(2.0, min(axle + 0.3, root2 - 2.0 * max(1.5 * m, 2.0) - 1.0))

    def circle(r, z=0.0):
        return cq.Wire.makeCircle(r, V(0, 0, z), V(0, 0, 1))

    # With bearings, both gears get the 22 mm pocket bore all the way through and a
    # thin web ring between the pockets carries the 10 mm axle clearance. Everything
    # is then joined in one glued union of coaxial, face-sharing solids; no cuts into
    # the toothed solids are needed, which keeps the build fast.
    pocket_r = BEARING_OD / 2.0 - BEARING_FIT
    hole_r = pocket_r if use_bearings else bore / 2.0
    holes = _holes_ring(tip2 / 2.0 + 3.0, root1 / 2.0 - max(1.5 * m, 3.0)) if params["lightening_holes"] else []
    big = cq.Solid.extrudeLinear(cq.Face.makeFromWires(gear_wire(m, z1, pa, backlash), [circle(hole_r)] + holes),
                                 V(0, 0, f1))
    small = cq.Solid.extrudeLinear(cq.Face.makeFromWires(gear_wire(m, z2, pa, backlash), [circle(hole_r)]),
                                   V(0, 0, f2)).translate(V(0, 0, f1))
    parts = [small]
    if use_bearings:
        d1 = min(BEARING_W, f1 - 1.0)
        d2 = min(BEARING_W, f2 - 1.0)
        web = cq.Solid.extrudeLinear(cq.Face.makeFromWires(circle(pocket_r), [circle(bore / 2.0)]),
                                     V(0, 0, f1 + f2 - d1 - d2)).translate(V(0, 0, d1))
        parts.append(web)
    # the pinion stands on the large gear's face: a coplanar join, cheap and exact
    gear = cq.Workplane("XY").add(big).union(cq.Workplane("XY").add(cq.Compound.makeCompound(parts)), glue=True)
    return gear

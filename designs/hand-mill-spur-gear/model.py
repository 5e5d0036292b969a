"""Involute spur gear for a hand-cranked grain mill.

The tooth flanks are true involutes of the base circle: points are computed
from the involute equations x = rb(cos t + t sin t), y = rb(sin t - t cos t)
and joined by a spline through them, so printed or cut gears mesh with any
standard gear of the same module and pressure angle.
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


def build(params):
    m = float(params["module"])
    z = int(params["teeth"])
    pa = float(params["pressure_angle"])
    face = float(params["face_width"])
    bore = float(params["bore_diameter"])
    hub_d = float(params["hub_diameter"])
    hub_len = float(params["hub_length"])
    keyway = bool(params["keyway"])
    backlash = float(params["backlash"])

    root_d = m * z - 2.5 * m
    # keep at least 1.5 modules (and 2 mm) of rim under the teeth
    bore = max(2.0, min(bore, root_d - 2.0 * max(1.5 * m, 2.0) - 2.0))
    hub_d = min(hub_d, root_d - 2.0 * m)
    has_hub = hub_len > 0 and hub_d > bore + 6.0

    holes = [bore_wire(bore, keyway)]
    # lightening holes in large gears: a ring of round windows in the web
    if params["lightening_holes"]:
        inner = max(bore / 2.0 + 3.0, (hub_d / 2.0 + 2.0) if has_hub else 0.0)
        outer = root_d / 2.0 - max(1.5 * m, 3.0)
        width = outer - inner
        if width >= 8.0:
            mid = (inner + outer) / 2.0
            hole_d = width * 0.75
            n = int(min(8, math.floor(2 * math.pi * mid / (hole_d + 4.0))))
            if n >= 3:
                for i in range(n):
                    holes.append(cq.Wire.makeCircle(hole_d / 2.0, _polar(mid, 2 * math.pi * i / n), V(0, 0, 1)))
    blank = cq.Face.makeFromWires(gear_wire(m, z, pa, backlash), holes)
    gear = cq.Workplane("XY").add(cq.Solid.extrudeLinear(blank, V(0, 0, face)))

    if has_hub:
        hub_face = cq.Face.makeFromWires(cq.Wire.makeCircle(hub_d / 2.0, V(0, 0, 0), V(0, 0, 1)),
                                         [bore_wire(bore, keyway)])
        hub = cq.Workplane("XY").add(
            cq.Solid.extrudeLinear(hub_face, V(0, 0, hub_len)).translate(V(0, 0, face)))
        # radial set-screw pilot (tap M3/M4 or melt in a heat-set insert) through the hub wall;
        # cut from the hub alone before joining, which is much cheaper than cutting the gear
        screw_d = 2.5 if hub_d - bore < 20 else 3.3
        if hub_len >= screw_d + 3.0:
            screw = (cq.Workplane("XZ")
                     .center(0, face + hub_len / 2.0)
                     .circle(screw_d / 2.0)
                     .extrude(-(hub_d / 2.0 + 1.0)))
            hub = hub.cut(screw)
        # the hub stands on the gear face: a glued (coplanar) join is exact and fast
        gear = gear.union(hub, glue=True)
    return gear

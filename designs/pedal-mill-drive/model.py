"""Pedal-powered grain mill drive: friction roller, jackshaft frame and pinion.

Combines two designs: the swinging, spring-loaded tyre roller of
bicycle-generator-mount 1.0.0 and the involute gear generator of
hand-mill-spur-gear 1.0.0. A bicycle on a trainer stand drives a roller on
a short jackshaft running in two 608 bearings; an involute pinion on the same
shaft drives the mill's gear. The trick: the frame pivots on the mill's own
input shaft, so as the spring swings the roller onto the tyre the
pinion-to-gear centre distance never changes.
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


BEARING_OD = 22.0       # 608 bearing: 8 x 22 x 7
BEARING_W = 7.0
BEARING_FIT = 0.15
SHAFT = 8.0             # jackshaft


def d_bore_wire(d, flat):
    """D-shaped shaft hole (circle with one flat `flat` deep on +Y) as a wire."""
    r = d / 2
    f = r - flat
    sx = math.sqrt(r * r - f * f)
    a, b = V(-sx, f, 0), V(sx, f, 0)
    return cq.Wire.assembleEdges([cq.Edge.makeLine(a, b), cq.Edge.makeThreePointArc(b, V(0, -r, 0), a)])


def frame(centre, pivot_d, t):
    r_piv = pivot_d / 2 + 8.0
    r_jack = BEARING_OD / 2 + 5.0
    r_end = max(r_piv, r_jack)
    boss_len = 2 * BEARING_W + 10.0
    plate = (cq.Workplane("XZ").center(0, centre / 2)
             .slot2D(centre + 2 * r_end, 2 * r_end, angle=90).extrude(t / 2, both=True))
    bosses = (cq.Workplane("XZ").pushPoints([(0, 0)]).circle(r_piv).extrude(boss_len / 2, both=True)
              .union(cq.Workplane("XZ").pushPoints([(0, centre)]).circle(r_jack).extrude(boss_len / 2, both=True)))
    body = plate.union(bosses)
    # pivot: plain greased bushing that turns on the mill's input shaft
    cut = cq.Workplane("XZ").circle(pivot_d / 2 + 0.3).extrude(boss_len, both=True)
    # jackshaft: two 608 bearing pockets with a clearance bore between them
    pr = BEARING_OD / 2 - BEARING_FIT
    jack = (cq.Workplane("XZ").center(0, centre).circle(SHAFT / 2 + 1.0).extrude(boss_len, both=True)
            .union(cq.Workplane("XZ").workplane(offset=boss_len / 2 - BEARING_W).center(0, centre)
                   .circle(pr).extrude(BEARING_W + 1))
            .union(cq.Workplane("XZ").workplane(offset=-boss_len / 2 - 1).center(0, centre)
                   .circle(pr).extrude(BEARING_W + 1)))
    # spring anchor and a lightening window in the link
    win_h = centre - r_piv - r_jack - 10.0
    extra = cq.Workplane("XZ").center(0, r_piv + 5.0 + win_h / 2)
    extra = extra.slot2D(win_h, r_end, angle=90) if win_h > r_end + 2 else extra.circle(2.6)
    body = body.cut(cut).cut(jack).cut(extra.extrude(t, both=True))
    return body


def pinion(m, z, pa, face):
    root_d = m * (z - 2.5)
    hub_d = min(root_d - 2 * m, 22.0) if root_d - 2 * m > SHAFT + 8 else 0.0
    blank = cq.Face.makeFromWires(gear_wire(m, z, pa, 0.15), [d_bore_wire(SHAFT + 0.15, 0.5)])
    gear = cq.Workplane("XY").add(cq.Solid.extrudeLinear(blank, V(0, 0, face)))
    hub_len = 8.0
    if hub_d:
        hub = cq.Face.makeFromWires(cq.Wire.makeCircle(hub_d / 2, V(0, 0, 0), V(0, 0, 1)),
                                    [d_bore_wire(SHAFT + 0.15, 0.5)])
        hub = cq.Workplane("XY").add(cq.Solid.extrudeLinear(hub, V(0, 0, hub_len)).translate(V(0, 0, face)))
        # M4 set screw (3.3 mm pilot) onto the shaft flat, cut from the hub before joining
        hub = hub.cut(cq.Workplane("XZ").center(0, face + hub_len / 2).circle(1.65).extrude(-(hub_d / 2 + 1)))
        gear = gear.union(hub, glue=True)
    return gear


def drive_roller(diameter, length):
    r = diameter / 2
    hub_r = 9.0
    hub_l = 8.0
    prof = [(0, 0), (r, 0), (r, length), (hub_r, length), (hub_r, length + hub_l), (0, length + hub_l)]
    body = cq.Workplane("XZ").polyline(prof).close().revolve(360, (0, 0, 0), (0, 1, 0))
    grooves = max(1, int(length // 10) - 1)
    pitch = length / (grooves + 1)
    rings = [cq.Solid.extrudeLinear(
        cq.Face.makeFromWires(cq.Wire.makeCircle(r + 1, V(0, 0, pitch * (i + 1) - 1.3), V(0, 0, 1)),
                              [cq.Wire.makeCircle(r - 2.2, V(0, 0, pitch * (i + 1) - 1.3), V(0, 0, 1))]),
        V(0, 0, 2.6)) for i in range(grooves)]
    body = body.cut(cq.Workplane("XY").add(cq.Compound.makeCompound(rings)))
    bore = cq.Solid.extrudeLinear(cq.Face.makeFromWires(d_bore_wire(SHAFT + 0.15, 0.5)),
                                  V(0, 0, length + hub_l + 2)).translate(V(0, 0, -1))
    body = body.cut(cq.Workplane("XY").add(bore))
    return body.cut(cq.Workplane("XZ").center(0, length + hub_l / 2).circle(1.65).extrude(-(hub_r + 1)))


def build(params):
    m = float(params["module"])
    zp = int(params["pinion_teeth"])
    zg = int(params["mill_gear_teeth"])
    pa = float(params["pressure_angle"])
    face = float(params["face_width"])
    # exact involute centre distance plus a little slack for printed teeth; the
    # parameter ranges keep it larger than the pivot bore + bearing pocket need
    centre = m * (zp + zg) / 2 + 0.15
    return {
        "frame": frame(centre, float(params["mill_shaft_diameter"]), float(params["plate_thickness"])),
        "drive_roller": drive_roller(float(params["roller_diameter"]), float(params["roller_length"])),
        "pinion": pinion(m, zp, pa, face),
    }

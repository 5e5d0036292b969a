"""Bicycle generator mount: swing bracket for a DC motor and a tyre roller.

Turns a bicycle on a trainer stand into a pedal-powered generator. A DC motor
(e.g. a 775-size brushed motor or a small PMDC scooter motor) bolts to the
face plate; a roller on its shaft presses on the rear tyre. The bracket swings
on a pivot bolt fixed to the stand, and a tension spring pulls the roller
against the tyre, so tyre wear and pressure changes are taken up by itself.
"""

import math

import cadquery as cq

V = cq.Vector
RIB_DEPTH = 12.0


def d_bore(wp, d, flat):
    """D-shaped shaft hole: a circle with one flat, `flat` deep."""
    r = d / 2
    f = r - flat
    sx = math.sqrt(r * r - f * f)
    return wp.moveTo(-sx, f).lineTo(sx, f).threePointArc((0, -r), (-sx, f)).close()


def bracket(motor_d, boss_d, bolt_spacing, bolt_count, bolt_hole, pivot, t):
    # the motor's face screws always sit outside its boss
    bolt_r = max(bolt_spacing / 2, boss_d / 2 + 0.3 + bolt_hole / 2 + 1.5)
    r_need = max(boss_d / 2 + 0.3, bolt_r + bolt_hole / 2)
    # wide enough for the motor between the ribs, and for the spring hole above the screws
    w = max(motor_d + 2 * t + 2.0, 2 * (r_need + 11.6), 50.0)
    pivot_od = pivot * 2.4
    zc = pivot_od / 2 + motor_d / 2 + 6.0           # motor axis height above the pivot
    # face plate in XZ (normal -Y): a rectangle with a round top centred on the motor axis
    plate = (cq.Workplane("XZ").moveTo(-w / 2, 0).lineTo(w / 2, 0).lineTo(w / 2, zc)
             .threePointArc((0, zc + w / 2), (-w / 2, zc)).close())
    holes = [(0.0, zc, boss_d / 2 + 0.3)]
    for k in range(bolt_count):
        a = math.pi * 2 * k / bolt_count
        holes.append((bolt_r * math.cos(a), zc + bolt_r * math.sin(a), bolt_hole / 2))
    # spring anchor hole near the top
    holes.append((0.0, zc + w / 2 - 7.0, 2.6))
    for x, z, r in holes:
        plate = plate.moveTo(x, z).circle(r)
    body = plate.extrude(-t)                         # plate occupies 0 <= y <= t
    # side ribs running back (-Y) so the plate cannot flex; the motor sits between them
    ribs = (cq.Workplane("XY").pushPoints([(-w / 2 + t / 2, -RIB_DEPTH / 2 + 0.01),
                                           (w / 2 - t / 2, -RIB_DEPTH / 2 + 0.01)])
            .rect(t, RIB_DEPTH).extrude(zc))
    body = body.union(ribs)
    # pivot tube along X at the bottom edge, flush with the front face so the
    # bracket prints face-down without supports
    ty = t - pivot_od / 2
    tube = (cq.Workplane("YZ").workplane(offset=-w / 2).center(ty, 0)
            .circle(pivot_od / 2).extrude(w))
    body = body.union(tube)
    bore = (cq.Workplane("YZ").workplane(offset=-w / 2 - 1).center(ty, 0)
            .circle(pivot / 2 + 0.25).extrude(w + 2))
    return body.cut(bore)


def roller(diameter, length, shaft, grooves):
    r = max(diameter / 2, shaft / 2 + 3.0)         # at least 3 mm of wall round the shaft
    hub_r = max(shaft * 1.6, 7.0)
    hub_l = 8.0
    if hub_r < r - 1.0:
        prof = [(0, 0), (r, 0), (r, length), (hub_r, length), (hub_r, length + hub_l), (0, length + hub_l)]
    else:                                          # small rollers: the hub is the roller itself
        prof = [(0, 0), (r, 0), (r, length + hub_l), (0, length + hub_l)]
        hub_r = r
    body = cq.Workplane("XZ").polyline(prof).close().revolve(360, (0, 0, 0), (0, 1, 0))
    # O-ring grooves (3 mm cord) give grip on the tyre
    if grooves > 0 and r > 8:
        pitch = length / (grooves + 1)
        ring = None
        for i in range(grooves):
            z = pitch * (i + 1)
            g = cq.Workplane("XY").workplane(offset=z - 1.3).circle(r + 1).circle(r - 2.2).extrude(2.6)
            ring = g if ring is None else ring.union(g)
        body = body.cut(ring)
    body = body.cut(d_bore(cq.Workplane("XY").workplane(offset=-1), shaft + 0.15, 0.5).extrude(length + hub_l + 2))
    # M3 set screw onto the shaft flat, through the hub
    screw = (cq.Workplane("XZ").center(0, length + hub_l / 2).circle(1.25).extrude(-(hub_r + 1)))
    return body.cut(screw)


def build(params):
    return {
        "bracket": bracket(float(params["motor_diameter"]), float(params["boss_diameter"]),
                           float(params["bolt_spacing"]), int(params["bolt_count"]),
                           float(params["bolt_hole"]), float(params["pivot_bolt"]),
                           float(params["plate_thickness"])),
        "roller": roller(float(params["roller_diameter"]), float(params["roller_length"]),
                         float(params["shaft_diameter"]), int(params["grip_grooves"])),
    }

"""Two-bladed Savonius vertical-axis wind rotor.

Two half-cylinder buckets of diameter d overlap by e at the centre (e/d about
0.15-0.25 gives the best power coefficient) and sit between two end plates
about 10 % larger than the rotor. The end plates carry grooves that locate
and glue the blades, and a hub with a set screw for the shaft stub.
Savonius rotors self-start in gusty, low wind and turn slowly with high
torque: good for water pumping, aeration and small generators.
"""

import math

import cadquery as cq

GROOVE_FIT = 0.4


def rotor_geometry(rotor_d, overlap_ratio):
    """Bucket diameter d, overlap e and bucket-centre offset c for a rotor of diameter D."""
    d = rotor_d / (2.0 - overlap_ratio)
    e = overlap_ratio * d
    c = (d - e) / 2.0
    return d, e, c


def half_annulus(wp, r_in, r_out):
    """A half ring (upper half, y >= 0) centred on the workplane origin."""
    return (wp.moveTo(r_out, 0).threePointArc((0, r_out), (-r_out, 0))
            .lineTo(-r_in, 0).threePointArc((0, r_in), (r_in, 0)).close())


def blade(d, t, height):
    return half_annulus(cq.Workplane("XY"), d / 2 - t / 2, d / 2 + t / 2).extrude(height)


def blade_grooves(d, t, c, depth, z_face, angle=0.0, downward=False):
    """Cutter for both blade grooves, opening at z_face into the plate."""
    gi, go = d / 2 - t / 2 - GROOVE_FIT / 2, d / 2 + t / 2 + GROOVE_FIT / 2
    z0 = z_face - depth if not downward else z_face - 0.01
    g1 = half_annulus(cq.Workplane("XY").workplane(offset=z0).center(c, 0), gi, go).extrude(depth + 0.01)
    g2 = g1.rotate((0, 0, 0), (0, 0, 1), 180)
    return g1.union(g2).rotate((0, 0, 0), (0, 0, 1), angle)


def end_plate(plate_d, tp, shaft, d, t, c, hub=True):
    plate = cq.Workplane("XY").circle(plate_d / 2).extrude(tp)
    depth = min(tp / 2, 4.0)
    plate = plate.cut(blade_grooves(d, t, c, depth, tp))
    if hub:
        hub_d = max(shaft * 2.5, shaft + 12.0)
        hub_h = max(12.0, shaft * 1.2)
        boss = cq.Workplane("XY").workplane(offset=-hub_h).circle(hub_d / 2).extrude(hub_h + 0.5)
        plate = plate.union(boss)
        plate = plate.cut(cq.Workplane("XY").workplane(offset=-hub_h - 1).circle(shaft / 2 + 0.15)
                          .extrude(hub_h + tp + 2))
        # M5 set-screw pilot through the hub wall
        plate = plate.cut(cq.Workplane("YZ").center(0, -hub_h / 2).circle(2.1).extrude(hub_d))
        # four M5 holes to bolt the plate to a flange coupling instead of the set screw
        r_b = hub_d / 2 + 10.0
        plate = plate.cut(cq.Workplane("XY").workplane(offset=-1).polarArray(r_b, 45, 360, 4)
                          .circle(2.75).extrude(tp + 2))
    return plate


def build(params):
    rotor_d = float(params["rotor_diameter"])
    height = float(params["rotor_height"])
    ratio = float(params["overlap_ratio"])
    t = float(params["blade_thickness"])
    tp = float(params["end_plate_thickness"])
    shaft = float(params["shaft_diameter"])
    plate_d = rotor_d * float(params["end_plate_ratio"])

    d, e, c = rotor_geometry(rotor_d, ratio)
    return {
        "end_plate": end_plate(plate_d, tp, shaft, d, t, c),
        "blade": blade(d, t, height),
    }

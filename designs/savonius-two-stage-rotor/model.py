"""Two-stage Savonius wind rotor with the stages turned 90 degrees apart.

Derived from savonius-wind-rotor 1.0.0. A single two-bucket Savonius has a
strongly pulsating torque (and dead spots where it will not self-start). Two
stacked stages rotated 90 degrees against each other smooth the torque and
start from any angle. A middle plate, grooved on both faces with the two groove
patterns at the stage angle, joins the stages.
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


def middle_plate(plate_d, tp, d, t, c, angle, through_bore):
    """Plate between the stages: stage 1 grooves underneath, stage 2 grooves on top."""
    tm = tp * 1.5
    depth = min(tp / 2, 4.0)
    plate = cq.Workplane("XY").circle(plate_d / 2).extrude(tm)
    plate = plate.cut(blade_grooves(d, t, c, depth, tm, angle=angle))
    plate = plate.cut(blade_grooves(d, t, c, depth, depth, angle=0.0))
    if through_bore > 0:
        plate = plate.cut(cq.Workplane("XY").workplane(offset=-1).circle(through_bore / 2).extrude(tm + 2))
    return plate


def build(params):
    rotor_d = float(params["rotor_diameter"])
    stage_h = float(params["stage_height"])
    ratio = float(params["overlap_ratio"])
    t = float(params["blade_thickness"])
    tp = float(params["end_plate_thickness"])
    shaft = float(params["shaft_diameter"])
    angle = float(params["stage_angle"])
    plate_d = rotor_d * 1.1

    d, e, c = rotor_geometry(rotor_d, ratio)
    # a through-shaft fits only if it clears both buckets' inner edges
    through = shaft + 1.0 if (e - t - 2.0) > shaft and params["through_shaft"] else 0.0
    return {
        "end_plate": end_plate(plate_d, tp, shaft, d, t, c),
        "middle_plate": middle_plate(plate_d, tp, d, t, c, angle, through),
        "blade": blade(d, t, stage_h),
    }

"""Drip-line stake: holds drip irrigation tubing on the ground at a plant.

Written with build123d: ``build(params)`` returns build123d solids, which the
renderer exports like any CadQuery shape (both wrap the same OCC kernel).
"""

from build123d import Align, Box, Cone, Cylinder, Pos, Rot


def build(params):
    tube = float(params["tube_diameter"])
    length = float(params["length"])
    wall = float(params["wall"])
    shaft_w = 7.0

    # A cross-shaped shaft resists twisting in the soil better than a round one.
    shaft = (Box(shaft_w, 2.4, length, align=(Align.CENTER, Align.CENTER, Align.MIN))
             + Box(2.4, shaft_w, length, align=(Align.CENTER, Align.CENTER, Align.MIN)))
    tip = Pos(0, 0, -12.0) * Cone(0.6, shaft_w / 2, 12.0, align=(Align.CENTER, Align.CENTER, Align.MIN))

    # The clip: a ring around the tube, open at the top by 80 % of the tube's
    # diameter so the tube snaps in and stays.
    r_out = tube / 2 + wall
    centre = length + r_out - 1.0
    ring = Pos(0, 0, centre) * Rot(90, 0, 0) * (Cylinder(r_out, 8.0) - Cylinder(tube / 2, 8.0))
    mouth = Pos(0, 0, centre + r_out) * Box(tube * 0.8, 10.0, 2 * r_out)
    stake = shaft + tip + ring - mouth
    return {"stake": stake}

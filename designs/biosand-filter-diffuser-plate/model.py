"""Diffuser plate for a biosand (slow sand) household water filter.

The diffuser sits a few centimetres above the standing water in a biosand
filter. Water poured into the filter lands on the plate and rains through a
grid of small holes, so it never disturbs the biological layer
(schmutzdecke) on top of the sand. Following CAWST practice the holes are
about 3 mm across on a 25 mm grid.
"""

import math

import cadquery as cq

HANDLE_LEN = 70.0
# Holes are modelled as 12-sided polygons whose flats sit on the nominal
# diameter: they deviate from a true circle by under 0.05 mm (less than the
# 0.1 mm mesh tolerance) and keep meshing of a plate with ~100 holes fast.
# For CNC or hand drilling only the hole centres matter.
HOLE_SIDES = 12
HANDLE_W = 22.0


def rounded_square(wp, size, r):
    """Draw a square with corner radius r, centred on the origin."""
    h = size / 2.0
    c = r * (1 - math.cos(math.pi / 4))
    return (wp.moveTo(-h + r, -h).lineTo(h - r, -h)
            .threePointArc((h - c, -h + c), (h, -h + r)).lineTo(h, h - r)
            .threePointArc((h - c, h - c), (h - r, h)).lineTo(-h + r, h)
            .threePointArc((-h + c, h - c), (-h, h - r)).lineTo(-h, -h + r)
            .threePointArc((-h + c, -h + c), (-h + r, -h)).close())


def build(params):
    shape = params["shape"]
    size = float(params["size"])
    t = float(params["thickness"])
    hole_d = float(params["hole_diameter"])
    pitch = float(params["hole_spacing"])
    margin = float(params["edge_margin"])
    handles = bool(params["handles"])
    pattern = params["pattern"]

    half = size / 2.0
    # handle slots sit inside the margin band near two opposite edges
    hy = half - margin - HANDLE_W / 2.0
    slot_pts = [(0.0, hy), (0.0, -hy)] if handles and hy > HANDLE_W else []

    def inside(x, y):
        r = hole_d / 2.0
        if shape == "round":
            ok = math.hypot(x, y) <= half - margin - r
        else:
            ok = abs(x) <= half - margin - r and abs(y) <= half - margin - r
        for sx, sy in slot_pts:
            if abs(x - sx) < HANDLE_LEN / 2 + pitch / 2 + r and abs(y - sy) < HANDLE_W / 2 + pitch / 2 + r:
                return False
        return ok

    row = pitch * (math.sqrt(3) / 2 if pattern == "staggered" else 1.0)
    n = int(half // min(pitch, row)) + 1
    pts = []
    for j in range(-n, n + 1):
        off = pitch / 2.0 if (pattern == "staggered" and j % 2) else 0.0
        for i in range(-n - 1, n + 1):
            x, y = i * pitch + off, j * row
            if inside(x, y):
                pts.append((x, y))

    wp = cq.Workplane("XY")
    # square plates get rounded corners so they drop into cast concrete filter bodies
    wp = wp.circle(half) if shape == "round" else rounded_square(wp, size, min(10.0, size / 10.0))
    if pts:
        wp = wp.pushPoints(pts).polygon(HOLE_SIDES, hole_d / math.cos(math.pi / HOLE_SIDES))
    if slot_pts:
        wp = wp.pushPoints(slot_pts).slot2D(HANDLE_LEN, HANDLE_W)
    return wp.extrude(t)

"""Stackable solar food dryer tray.

A shallow frame with an open support grid for food-grade drying mesh. Corner
posts with pegs and sockets hold the next tray ``stack_gap`` above, so any
number of trays stack into a rack inside a solar cabinet dryer (or on their
own, in a shaded breezy spot) with an air gap between every layer.
"""

import math

import cadquery as cq

GRID_THICKNESS = 3.0
POST = 12.0          # corner post square size
PEG_D = 6.0
PEG_H = 5.0
FIT = 0.4            # peg/socket clearance for FDM


def grid_windows(inner_w, inner_d, pitch, rib):
    """Centres and size of the square windows of the support grid."""
    win = pitch - rib
    nx = max(1, int(math.floor((inner_w - rib) / pitch)))
    ny = max(1, int(math.floor((inner_d - rib) / pitch)))
    # stretch the pitch so ribs land evenly inside the frame
    px = (inner_w - rib) / nx
    py = (inner_d - rib) / ny
    wx, wy = px - rib, py - rib
    pts = []
    for i in range(nx):
        for j in range(ny):
            pts.append((-inner_w / 2 + rib + wx / 2 + i * px, -inner_d / 2 + rib + wy / 2 + j * py))
    return pts, wx, wy


def tray(width, depth, height, wall, pitch, rib, handles=True):
    """The tray frame with its support grid, without stacking posts."""
    inner_w, inner_d = width - 2 * wall, depth - 2 * wall
    walls = (cq.Workplane("XY").rect(width, depth).rect(inner_w, inner_d).extrude(height))
    pts, wx, wy = grid_windows(inner_w, inner_d, pitch, rib)
    grid = (cq.Workplane("XY").rect(inner_w + wall, inner_d + wall)
            .pushPoints(pts).rect(wx, wy).extrude(GRID_THICKNESS))
    body = walls.union(grid)
    if handles and height >= 14:
        slot_len = min(70.0, depth * 0.4)
        slot_h = min(12.0, height - 8.0)
        cut = (cq.Workplane("YZ").workplane(offset=-width)
               .center(0, height - slot_h / 2 - 3.0)
               .slot2D(slot_len, slot_h).extrude(2 * width))
        body = body.cut(cut)
    return body


def build(params):
    width = float(params["width"])
    depth = float(params["depth"])
    height = float(params["frame_height"])
    wall = float(params["wall_thickness"])
    pitch = float(params["grid_pitch"])
    gap = float(params["stack_gap"])
    rib = 2.4

    body = tray(width, depth, height, wall, pitch, rib, bool(params["handles"]))

    # corner posts: stand `gap` above the rim, peg on top, socket underneath
    cx = width / 2 - wall - POST / 2 + 0.5
    cy = depth / 2 - wall - POST / 2 + 0.5
    corners = [(sx * cx, sy * cy) for sx in (-1, 1) for sy in (-1, 1)]
    posts = (cq.Workplane("XY").pushPoints(corners).rect(POST, POST).extrude(height + gap)
             .faces(">Z").workplane().pushPoints(corners).circle(PEG_D / 2).extrude(PEG_H))
    body = body.union(posts)
    sockets = (cq.Workplane("XY").workplane(offset=-1).pushPoints(corners)
               .circle(PEG_D / 2 + FIT / 2).extrude(PEG_H + 1.5))
    return body.cut(sockets)

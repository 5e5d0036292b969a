"""Flat-pack multi-tier solar dryer cabinet rack.

Derived from solar-dryer-rack 1.0.0: the same grid tray, but instead of
stacking on corner posts the trays slide on runners in a laser- or CNC-cut
plywood frame. Two side panels with slotted joints, tabbed runners and
tusk-tenon cross braces assemble without glue or screws.
"""

import math

import cadquery as cq

GRID_THICKNESS = 3.0
RIB = 2.4
RUNNER_W = 22.0       # how far a runner sticks out from the side panel
TAB_L = 30.0          # length of every tab
SLOT_FIT = 0.3        # slot clearance for laser-cut plywood
BRACE_H = 60.0
TUSK = 28.0           # tenon protrusion beyond the panel (for the wedge)
MARGIN = 25.0         # panel border around the tray run


def grid_windows(inner_w, inner_d, pitch, rib):
    nx = max(1, int(math.floor((inner_w - rib) / pitch)))
    ny = max(1, int(math.floor((inner_d - rib) / pitch)))
    px, py = (inner_w - rib) / nx, (inner_d - rib) / ny
    wx, wy = px - rib, py - rib
    pts = [(-inner_w / 2 + rib + wx / 2 + i * px, -inner_d / 2 + rib + wy / 2 + j * py)
           for i in range(nx) for j in range(ny)]
    return pts, wx, wy


def tray(width, depth, height, wall, pitch):
    inner_w, inner_d = width - 2 * wall, depth - 2 * wall
    walls = cq.Workplane("XY").rect(width, depth).rect(inner_w, inner_d).extrude(height)
    pts, wx, wy = grid_windows(inner_w, inner_d, pitch, RIB)
    grid = (cq.Workplane("XY").rect(inner_w + wall, inner_d + wall)
            .pushPoints(pts).rect(wx, wy).extrude(GRID_THICKNESS))
    body = walls.union(grid)
    # finger pulls in the front and back walls
    pull_w = min(70.0, width * 0.35)
    pull_h = min(10.0, height - 6.0)
    if pull_h >= 5.0:
        pull = (cq.Workplane("XZ")
                .center(0, height - pull_h / 2 - 3.0).slot2D(pull_w, pull_h)
                .extrude(depth, both=True))
        body = body.cut(pull)
    return body


def build(params):
    tray_w = float(params["tray_width"])
    tray_d = float(params["tray_depth"])
    tiers = int(params["tiers"])
    pitch = float(params["tier_pitch"])
    sheet = float(params["sheet_thickness"])
    leg = float(params["leg_height"])
    tray_h = min(22.0, pitch - 25.0)
    wall = 4.0

    panel_w = tray_d + 2 * MARGIN
    panel_h = leg + tiers * pitch + MARGIN
    slot_t = sheet + SLOT_FIT
    runner_len = tray_d

    # ---- side panel, drawn in XY (X = depth, Y = height), extruded by the sheet
    panel = cq.Workplane("XY").center(0, panel_h / 2).rect(panel_w, panel_h).extrude(sheet)
    cutters = cq.Workplane("XY").workplane(offset=-1)
    # leg cut-out between the two feet
    foot = 45.0
    cutters = cutters.center(0, (leg * 0.6) / 2).rect(panel_w - 2 * foot, leg * 0.6).extrude(sheet + 2)
    # runner tab slots (horizontal), two per tier
    tab_x = [-runner_len / 2 + 0.25 * runner_len, -runner_len / 2 + 0.75 * runner_len]
    slots = []
    for i in range(tiers):
        y = leg + i * pitch - slot_t / 2 - 0.01
        slots += [(x, y) for x in tab_x]
    slot_cut = (cq.Workplane("XY").workplane(offset=-1).pushPoints(slots)
                .rect(TAB_L + SLOT_FIT, slot_t).extrude(sheet + 2))
    # cross-brace mortises (vertical) front and back, at the bottom and the top
    bx = panel_w / 2 - MARGIN / 2 - 1.0
    by = [max(leg - BRACE_H / 2 - 12.0, TAB_L / 2 + 10.0), panel_h - BRACE_H / 2 - 6.0]
    mortises = [(sx * bx, y) for sx in (-1, 1) for y in by]
    mortise_cut = (cq.Workplane("XY").workplane(offset=-1).pushPoints(mortises)
                   .rect(slot_t, TAB_L + SLOT_FIT).extrude(sheet + 2))
    # ventilation windows between tiers (screened with mesh in use)
    vents = []
    vh = pitch - 30.0
    if vh >= 20:
        for i in range(tiers):
            vents.append((0, leg + i * pitch + pitch / 2))
    side = panel.cut(cutters).cut(slot_cut).cut(mortise_cut)
    if vents:
        vent_cut = (cq.Workplane("XY").workplane(offset=-1).pushPoints(vents)
                    .slot2D(panel_w - 2 * MARGIN - 40.0, vh).extrude(sheet + 2))
        side = side.cut(vent_cut)

    # ---- runner: a ledge strip with two tabs on its outer edge
    runner = cq.Workplane("XY").rect(runner_len, RUNNER_W).extrude(sheet)
    tabs = (cq.Workplane("XY").pushPoints([(x, -RUNNER_W / 2 - sheet / 2 + 0.01) for x in tab_x])
            .rect(TAB_L, sheet + 0.02).extrude(sheet))
    runner = runner.union(tabs)
    # screw holes to pin the runner to the panel from outside (optional)
    runner = runner.faces(">Z").workplane().pushPoints([(x, 0) for x in tab_x]).hole(3.0)

    # ---- cross brace with tusk tenons through both side panels
    inner_span = tray_w + 2 * RUNNER_W + 4.0          # clear width between panels
    brace = cq.Workplane("XY").rect(inner_span, BRACE_H).extrude(sheet)
    tenon_len = sheet + TUSK
    tenons = (cq.Workplane("XY")
              .pushPoints([(sx * (inner_span / 2 + tenon_len / 2 - 0.01), 0) for sx in (-1, 1)])
              .rect(tenon_len + 0.02, TAB_L).extrude(sheet))
    brace = brace.union(tenons)
    # wedge holes just outside the panel face
    wedge_x = inner_span / 2 + sheet + 4.0 + 4.0
    brace = brace.cut(cq.Workplane("XY").workplane(offset=-1)
                      .pushPoints([(sx * wedge_x, 0) for sx in (-1, 1)])
                      .rect(8.0, TAB_L - 12.0).extrude(sheet + 2))
    # lightening/handle slot in the middle
    if inner_span > 160:
        brace = brace.cut(cq.Workplane("XY").workplane(offset=-1)
                          .slot2D(inner_span - 120.0, BRACE_H * 0.4).extrude(sheet + 2))

    return {
        "side_panel": side,
        "runner": runner,
        "cross_brace": brace,
        "tray": tray(tray_w, tray_d, tray_h, wall, float(params["grid_pitch"])),
    }

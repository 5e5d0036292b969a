"""Rainwater first-flush diverter with a leaf and mosquito screen head.

Derived from rainwater-first-flush-diverter 1.0.0. The seat insert, float and
slow-drip end cap are unchanged; added is a screen head that slips over the
top of the downpipe under the gutter outlet. A printed rib grid resting on a ledge in the head carries a disc
of stainless insect mesh (about 1 mm aperture) clamped by a press-fit ring,
so leaves stay out of the diverter and mosquitoes cannot reach the tank
through the downpipe.
"""

import math

import cadquery as cq

PUSH_FIT = 0.2     # radial interference-free clearance inside the pipe
SLIP_FIT = 0.3     # radial clearance of the cap over the pipe
BALL_GAP = 3.0     # radial clearance between float and pipe bore
FLOAT_WALL = 1.6
GRID_RIB = 2.0
GRID_THICKNESS = 3.0
LEDGE = 3.0
SOCKET_DEPTH = 30.0


def revolve_profile(points):
    """Revolve a closed (r, z) outline drawn in XZ around the Z axis."""
    return cq.Workplane("XZ").polyline(points).close().revolve(360, (0, 0, 0), (0, 1, 0))


def seat_insert(pipe_id, wall):
    r_out = pipe_id / 2 - PUSH_FIT
    ball_r = pipe_id / 2 - BALL_GAP
    r_seat = 0.72 * ball_r
    r_lead = r_out - 1.0
    cone = r_lead - r_seat          # 45 degree seat cone (prints without support)
    top = cone + max(4.0, wall)
    length = top
    insert = revolve_profile([(r_seat, top), (r_out, top), (r_out, 0.0), (r_lead, 0.0),
                              (r_seat, cone)])
    # two radial pilot holes for stainless self-tappers through the pipe wall
    z_hole = top - max(4.0, wall) / 2 - 0.5 if top > 12 else top / 2
    pilot = (cq.Workplane("YZ").workplane(offset=-r_out - 1).center(0, z_hole)
             .circle(1.4).extrude(2 * r_out + 2))
    if r_out - r_seat > 4.0:
        insert = insert.cut(pilot)
    return insert


def end_cap(pipe_od, depth, wall, orifice):
    r_in = pipe_od / 2 + SLIP_FIT
    r_out = r_in + wall
    floor = max(4.0, wall + 1.0)
    # 12-sided grip outside, round socket inside
    cap = cq.Workplane("XY").polygon(12, 2 * r_out / math.cos(math.pi / 12)).extrude(depth + floor)
    cap = cap.cut(cq.Workplane("XY").workplane(offset=floor).circle(r_in).extrude(depth + 1))
    # pipe stop ring: the pipe seats on it, leaving a sediment sump under the pipe end
    sump = min(8.0, depth / 3)
    stop_w = min(3.0, wall)
    stop = (cq.Workplane("XY").workplane(offset=floor).circle(r_in).circle(r_in - stop_w)
            .extrude(sump))
    cap = cap.union(stop)
    # drip orifice with a 90 degree funnel so grit is carried through, not lodged
    funnel_h = min(6.0, floor - 1.5)
    funnel = cq.Workplane("XY").add(
        cq.Solid.makeCone(orifice / 2, orifice / 2 + funnel_h + 0.01, funnel_h + 0.01,
                          pnt=cq.Vector(0, 0, floor - funnel_h)))
    hole = cq.Workplane("XY").workplane(offset=-1).circle(orifice / 2).extrude(floor + 2)
    return cap.cut(hole).cut(funnel)


def float_half(ball_r):
    """A hollow hemisphere, equator on Z = 0, with a small flat at the pole.

    The flat (8 mm across) gives the glued ball a stable print base for the
    second half and avoids a degenerate pole in the mesh.
    """
    ri = ball_r - FLOAT_WALL
    xf = 4.0
    zo = math.sqrt(ball_r ** 2 - xf ** 2)
    zi = math.sqrt(ri ** 2 - xf ** 2)
    ao = math.atan2(zo, xf) / 2
    ai = math.atan2(zi, xf) / 2
    return (cq.Workplane("XZ").moveTo(ri, 0).lineTo(ball_r, 0)
            .threePointArc((ball_r * math.cos(ao), ball_r * math.sin(ao)), (xf, zo))
            .lineTo(0, zo).lineTo(0, zi).lineTo(xf, zi)
            .threePointArc((ri * math.cos(ai), ri * math.sin(ai)), (ri, 0))
            .close().revolve(360, (0, 0, 0), (0, 1, 0)))


def screen_basket(downpipe_od, basket_depth, wall):
    """Head that slips over the downpipe: socket below, basket above, ledge between."""
    r_sock = downpipe_od / 2 + SLIP_FIT
    r_bask = r_sock + 12.0                      # wider than the pipe: more screen area
    r_out = r_bask + wall
    floor_z = SOCKET_DEPTH
    top = floor_z + LEDGE + basket_depth
    # 45 degree flare from socket to basket so it prints upright without supports
    prof = [(r_sock, 0.0), (r_sock + wall, 0.0), (r_sock + wall, floor_z - (r_out - r_sock - wall)),
            (r_out, floor_z), (r_out, top), (r_bask, top), (r_bask, floor_z + LEDGE),
            (r_sock - 2.0, floor_z + LEDGE), (r_sock - 2.0, floor_z), (r_sock, floor_z)]
    head = revolve_profile(prof)
    # overflow notches at the rim so a blocked screen spills outside, not back up the gutter
    notch = (cq.Workplane("XZ").center(0, top - 5.0).rect(20.0, 14.0)
             .extrude(r_out + 1, both=True))
    return head.cut(notch)


def screen_grid(downpipe_od, pitch):
    """Flat rib grid that rests on the basket ledge and carries the mesh disc."""
    r_grid = downpipe_od / 2 + SLIP_FIT + 12.0 - 0.3
    r_open = downpipe_od / 2 - 1.0             # windows only over the pipe bore
    win = pitch - GRID_RIB
    n = int(math.ceil(r_open / pitch)) + 1
    pts = []
    for i in range(-n, n + 1):
        for j in range(-n, n + 1):
            x, y = i * pitch, j * pitch
            if math.hypot(abs(x) + win / 2, abs(y) + win / 2) < r_open:
                pts.append((x, y))
    grid = cq.Workplane("XY").circle(r_grid)
    if pts:
        grid = grid.pushPoints(pts).rect(win, win)
    return grid.extrude(GRID_THICKNESS)


def clamp_ring(downpipe_od):
    """Press-fit ring pinning the mesh disc onto the grid floor."""
    r_bask = downpipe_od / 2 + SLIP_FIT + 12.0
    r_o = r_bask - 0.15
    r_i = r_o - 11.0                           # stays clear of the grid windows
    return (cq.Workplane("XY").circle(r_o).circle(r_i).extrude(6.0)
            .faces(">Z").edges().chamfer(0.6))


def build(params):
    od = float(params["pipe_outer_diameter"])
    pipe_wall = float(params["pipe_wall"])
    wall = float(params["part_wall"])
    pipe_id = od - 2 * pipe_wall
    down_od = float(params["downpipe_outer_diameter"])
    return {
        "seat_insert": seat_insert(pipe_id, wall),
        "end_cap": end_cap(od, float(params["cap_depth"]), wall, float(params["drip_orifice"])),
        "float_half": float_half(pipe_id / 2 - BALL_GAP),
        "screen_basket": screen_basket(down_od, float(params["basket_depth"]), wall),
        "screen_grid": screen_grid(down_od, float(params["grid_pitch"])),
        "clamp_ring": clamp_ring(down_od),
    }

"""Rainwater first-flush diverter: float-ball seat, slow-drip end cap and float.

The first, dirtiest litres of every rain (dust, bird droppings, leaf tannins)
fill a vertical chamber pipe hanging below a tee in the downpipe. A hollow
float rises with the water and seals against a conical seat at the top of
the chamber, after which clean water runs on to the tank. A small orifice in
the end cap drains the chamber slowly so it is empty for the next rain.
"""

import math

import cadquery as cq

PUSH_FIT = 0.2     # radial interference-free clearance inside the pipe
SLIP_FIT = 0.3     # radial clearance of the cap over the pipe
BALL_GAP = 3.0     # radial clearance between float and pipe bore
FLOAT_WALL = 1.6


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


def build(params):
    od = float(params["pipe_outer_diameter"])
    pipe_wall = float(params["pipe_wall"])
    wall = float(params["part_wall"])
    pipe_id = od - 2 * pipe_wall
    return {
        "seat_insert": seat_insert(pipe_id, wall),
        "end_cap": end_cap(od, float(params["cap_depth"]), wall, float(params["drip_orifice"])),
        "float_half": float_half(pipe_id / 2 - BALL_GAP),
    }

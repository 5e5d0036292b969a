"""Foot pedal for a tippy tap hands-free handwashing station.

A tippy tap is a jerrycan hung on a crossbar that tips to pour a thin stream
of water when a rope from its neck is pulled down by a foot pedal stick.
Nobody touches the container with dirty hands, and it uses about 40 ml per
wash. This pedal caps the end of the pedal stick: a ribbed, non-slip footpad
with a socket for the stick, a nail hole to fix it, and a reinforced eye for
the rope.
"""

import math

import cadquery as cq

WALL = 3.5
RIB_H = 2.0
RIB_W = 3.0
RIB_PITCH = 12.0


def rounded_rect(wp, l, w, r):
    """Rounded rectangle from x = 0 to l, centred on y = 0."""
    c = r * (1 - math.cos(math.pi / 4))
    h = w / 2
    return (wp.moveTo(r, -h).lineTo(l - r, -h).threePointArc((l - c, -h + c), (l, -h + r))
            .lineTo(l, h - r).threePointArc((l - c, h - c), (l - r, h))
            .lineTo(r, h).threePointArc((c, h - c), (0, h - r))
            .lineTo(0, -h + r).threePointArc((c, -h + c), (r, -h)).close())


def build(params):
    stick = float(params["stick_diameter"])
    length = float(params["pad_length"])
    width = float(params["pad_width"])
    t = float(params["pad_thickness"])
    depth = float(params["socket_depth"])
    rope = float(params["rope_diameter"])
    tread = bool(params["tread"])

    rope_boss = max(rope * 2.6, 16.0)
    # the socket runs under the pad from the back edge; leave the nose for the rope eye
    depth = min(depth, length - rope_boss - 2 * WALL)
    sleeve_r = stick / 2 + WALL
    zc = t - sleeve_r                     # sleeve top flush with the pad top
    sleeve_len = depth + WALL             # closed at the front

    pad = rounded_rect(cq.Workplane("XY"), length, width, min(12.0, width / 4)).extrude(t)
    sleeve = (cq.Workplane("YZ").center(0, zc).circle(sleeve_r).extrude(sleeve_len))
    body = pad.union(sleeve)

    # rope eye: a boss under the nose with a vertical hole; knot the rope underneath
    x_eye = length - rope_boss / 2 - 2.0
    boss_h = max(10.0, rope * 1.5)
    boss = cq.Workplane("XY").workplane(offset=t - boss_h).center(x_eye, 0).circle(rope_boss / 2).extrude(boss_h)
    body = body.union(boss)
    body = body.cut(cq.Workplane("XY").workplane(offset=t - boss_h - 1).center(x_eye, 0)
                    .circle(rope / 2 + 0.5).extrude(boss_h + 2))

    if tread:
        xs = []
        x = RIB_PITCH
        while x < x_eye - rope_boss / 2 - RIB_W:
            xs.append((x, 0))
            x += RIB_PITCH
        if xs:
            ribs = (cq.Workplane("XY").workplane(offset=t - 0.01).pushPoints(xs)
                    .rect(RIB_W, width - 12.0).extrude(RIB_H + 0.01))
            body = body.union(ribs)

    # the stick socket, open at the back, and a nail/screw hole through it
    body = body.cut(cq.Workplane("YZ").workplane(offset=-1).center(0, zc).circle(stick / 2 + 0.5)
                    .extrude(depth + 1))
    body = body.cut(cq.Workplane("XY").workplane(offset=zc - sleeve_r - 1).center(depth / 2, 0)
                    .circle(2.2).extrude(2 * sleeve_r + t + RIB_H + 2))
    return body

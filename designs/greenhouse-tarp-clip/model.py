"""Snap clip that holds greenhouse film, shade cloth or a tarp on a hoop pipe.

A C-shaped clip snaps over the film and the pipe of a polytunnel hoop,
low tunnel or shelter frame. Flared lips guide it on and give a grip to pull
it off. Used every 30-50 cm, clips hold the cover without punching holes in
it, so the film lasts more seasons and can be taken down and reused.
"""

import math

import cadquery as cq

SNAP = 0.3          # radial interference with the covered pipe, for grip


def build(params):
    d = float(params["pipe_diameter"])
    length = float(params["clip_length"])
    wall = float(params["wall_thickness"])
    film = float(params["film_allowance"])
    opening = float(params["opening_angle"])
    lip = float(params["lip_length"])

    ri = d / 2 + film - SNAP
    ro = ri + wall
    half = math.radians(opening / 2)
    a_r = math.pi / 2 - half                 # ring end on the right of the opening
    a_l = math.pi / 2 + half                 # ring end on the left

    # C-ring: the long way round from the left end to the right end
    def p(r, a):
        return (r * math.cos(a), r * math.sin(a))

    a_mid = a_l + (2 * math.pi - 2 * half) / 2     # the bottom of the C
    ring = (cq.Workplane("XY").moveTo(*p(ri, a_l)).lineTo(*p(ro, a_l))
            .threePointArc(p(ro, a_mid), p(ro, a_r))
            .lineTo(*p(ri, a_r))
            .threePointArc(p(ri, a_mid), p(ri, a_l))
            .close().extrude(length))

    clip = ring
    if lip > 0:
        # flared lips: radial extensions at the two ends, flush with the end faces,
        # so the opening funnels the clip onto the pipe
        for a, side in ((a_r, -1), (a_l, 1)):
            ux, uy = math.cos(a), math.sin(a)                    # radial
            tx, ty = -math.sin(a) * side, math.cos(a) * side     # tangential, into the ring body
            r0, r1 = ri + wall * 0.5, ro + lip
            pts = [(r0 * ux, r0 * uy), (r1 * ux, r1 * uy),
                   (r1 * ux + wall * tx, r1 * uy + wall * ty), (r0 * ux + wall * tx, r0 * uy + wall * ty)]
            tab = cq.Workplane("XY").polyline(pts).close().extrude(length)
            clip = clip.union(tab)
    return clip

"""Multi-way hub connector for bamboo (or round timber) pole structures.

One printed node joins the poles of a shelter roof, a greenhouse frame, a
pergola or a drying rack: rafter sockets radiate outwards, tilted down by the
roof pitch, plus an optional socket straight down for a centre post. Each pole
is locked by a cross bolt through the socket and the pole. The socket bores
stop short of the centre so the middle of the node stays solid.
"""

import math

import cadquery as cq

V = cq.Vector


def _angle_between(a, b):
    return math.acos(max(-1.0, min(1.0, a.dot(b) / (a.Length * b.Length))))


def build(params):
    pole = float(params["pole_diameter"])
    n = int(params["socket_count"])
    pitch = float(params["pitch_angle"])
    depth = float(params["socket_depth"])
    wall = float(params["wall_thickness"])
    bolt = float(params["bolt_diameter"])
    post = bool(params["centre_post"])
    clearance = float(params["fit_clearance"])

    rb = pole / 2 + clearance / 2           # bore radius
    ro = rb + wall                          # socket outer radius
    th = math.radians(pitch)
    axes = []
    for k in range(n):
        phi = 2 * math.pi * k / n
        axes.append((V(math.cos(phi) * math.cos(th), math.sin(phi) * math.cos(th), -math.sin(th)),
                     V(-math.sin(phi), math.cos(phi), 0)))
    if post:
        axes.append((V(0, 0, -1), V(1, 0, 0)))

    # bores start far enough out that no two of them meet (plus a wall between them)
    r_stop = ro
    for i in range(len(axes)):
        for j in range(i + 1, len(axes)):
            half = _angle_between(axes[i][0], axes[j][0]) / 2
            r_stop = max(r_stop, (rb + wall / 2) / math.sin(half) + 0.5)
    length = r_stop + depth

    tubes = [cq.Solid.makeCylinder(ro, length, V(0, 0, 0), a) for a, _ in axes]
    # a cap on top of the node, so rain runs off and the bolt-heavy middle is stiff
    tubes.append(cq.Solid.makeCylinder(ro, ro, V(0, 0, 0), V(0, 0, 1)))
    node = tubes[0].fuse(*tubes[1:]).clean()

    cutters = []
    for a, perp in axes:
        cutters.append(cq.Solid.makeCylinder(rb, depth + 1.0, a * r_stop, a))
        if bolt > 0:
            c = a * (r_stop + depth * 0.55) - perp * (ro + 1.0)
            cutters.append(cq.Solid.makeCylinder(bolt / 2 + 0.2, 2 * ro + 2.0, c, perp))
    node = node.cut(*cutters)
    return cq.Workplane("XY").add(node)

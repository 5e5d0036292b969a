"""Two-piece tube clamp with a strut tab, for fitting cargo racks to bicycles.

Bikes without rack eyelets (most cheap, old or suspension bikes, and most
cargo conversions) cannot take a standard rack. This clamp grips a frame tube
(seat stay, fork leg, seat post) between a saddle with a strut tab and a cap
with captive nuts, over a rubber liner that protects the paint and carbon or
aluminium tubes.
"""

import math

import cadquery as cq

SPLIT_GAP = 1.0          # total gap between the halves, so the bolts can clamp
NUT_AF = {4: 7.0, 5: 8.0, 6: 10.0}


def _cyl_x(r, length, y=0.0, z=0.0):
    """Cylinder along X centred on x = 0."""
    return cq.Workplane("YZ").workplane(offset=-length / 2).center(y, z).circle(r).extrude(length)


def _box(x0, x1, y0, y1, z0, z1):
    return cq.Workplane("XY").box(x1 - x0, y1 - y0, z1 - z0, centered=False).translate((x0, y0, z0))


def build(params):
    d = float(params["tube_diameter"])
    w = float(params["clamp_width"])
    wall = float(params["wall_thickness"])
    liner = float(params["liner_thickness"])
    bolt = int(params["bolt_size"])
    tab_len = float(params["tab_length"])
    tab_angle = float(params["tab_angle"])
    strut = float(params["strut_bolt"])

    ri = d / 2 + liner                       # bore, including the rubber liner
    ro = ri + wall
    clear = bolt + 0.4
    af = NUT_AF[bolt]
    yh = ri + max(1.2 + clear / 2, af / 2 + 1.0)   # bolt centre lines, as close to the tube as the nut allows
    ear_out = yh + max(clear / 2, af / 2) + 2.5
    ear_h = max(8.0, bolt * 1.8)
    g = SPLIT_GAP / 2

    def half(sign):
        """sign = -1: saddle (below the split), +1: cap (above)."""
        body = _cyl_x(ro, w).union(_box(-w / 2, w / 2, -ear_out, ear_out,
                                         min(0, sign * ear_h), max(0, sign * ear_h)))
        body = body.cut(_cyl_x(ri, w + 2))
        # keep only this side of the split line, less half the clamping gap
        keep = _box(-w, w, -2 * ro - ear_out, 2 * ro + ear_out, g, 4 * ro) if sign > 0 else \
            _box(-w, w, -2 * ro - ear_out, 2 * ro + ear_out, -4 * ro - tab_len, -g)
        body = body.intersect(keep)
        holes = (cq.Workplane("XY").workplane(offset=-ear_h - 2).pushPoints([(0, -yh), (0, yh)])
                 .circle(clear / 2).extrude(2 * ear_h + 4))
        return body.cut(holes)

    saddle = half(-1)
    cap = half(1)

    # captive hex nuts in the top of the cap
    nut_h = 0.8 * bolt + 0.3
    traps = (cq.Workplane("XY").workplane(offset=ear_h - nut_h).pushPoints([(0, -yh), (0, yh)])
             .polygon(6, (af + 0.3) / math.cos(math.pi / 6)).extrude(nut_h + 1))
    cap = cap.cut(traps)

    # strut tab under the saddle, turned by tab_angle about the tube axis
    tab_t = max(5.0, strut * 0.9)
    tab_w = min(w, max(strut * 2.6, 14.0))
    r0 = ri + 1.0
    tab = _box(-tab_w / 2, tab_w / 2, -tab_t / 2, tab_t / 2, -(ro + tab_len), -r0)
    tab = tab.union(cq.Workplane("XZ").center(0, -(ro + tab_len)).circle(tab_w / 2)
                    .extrude(tab_t / 2, both=True))
    tab = tab.cut(cq.Workplane("XZ").center(0, -(ro + tab_len)).circle(strut / 2 + 0.2)
                  .extrude(tab_t, both=True))
    tab = tab.cut(_cyl_x(ri, w + 2))
    if tab_angle:
        tab = tab.rotate((0, 0, 0), (1, 0, 0), tab_angle)
    saddle = saddle.union(tab)
    return {"saddle": saddle, "cap": cap}

"""Langstroth beehive frame: top bar, Hoffman end bars and bottom bar.

Standard Langstroth frame dimensions (inch sizes converted to mm): a 19"
(482.6 mm) top bar with 3/8" thick ears that rest in the hive body's rabbet,
end bars 3/8" thick and 1-3/8" wide at the top (Hoffman self-spacing) giving
the 1-3/8" (35 mm) frame spacing bees need, and a bottom bar across the
bottom of the end bars. Frame depths: deep 9-1/8", medium 6-1/4",
shallow 5-3/8".
"""

import math

import cadquery as cq

DEPTHS = {"deep": 231.8, "medium": 158.8, "shallow": 136.5}
OUTSIDE_LENGTH = 447.7       # 17-5/8": outside of end bar to outside of end bar
TOP_T = 19.0                 # 3/4" top bar
EAR_T = 9.5                  # 3/8" ears
DADO = 4.8                   # 3/16" dado for the end bars under the top bar
HOFFMAN_W = 34.9             # 1-3/8" self-spacing shoulders
NARROW_W = 25.4              # 1" below the shoulders
BOTTOM_W = 19.0              # 3/4" bottom bar
BOTTOM_T = 9.5               # 3/8"
GROOVE_W = 3.2               # foundation groove
WIRE_D = 1.6                 # holes for 0.5 mm frame wire (eyelets optional)


def box(x0, x1, y0, y1, z0, z1):
    return cq.Workplane("XY").box(x1 - x0, y1 - y0, z1 - z0, centered=False).translate((x0, y0, z0))


def top_bar(length, width, end_t, groove):
    half = length / 2
    inner = OUTSIDE_LENGTH / 2                 # end bars sit just inside the ears
    bar = box(-half, half, -width / 2, width / 2, 0, TOP_T)
    # ears: thinned from below so their tops stay flush with the bar
    for s in (-1, 1):
        x0, x1 = sorted((s * inner, s * (half + 1)))
        bar = bar.cut(box(x0, x1, -width, width, -1, TOP_T - EAR_T))
        # dado that locates the end bar
        d0, d1 = sorted((s * (inner - end_t), s * inner))
        bar = bar.cut(box(d0, d1, -width, width, -1, DADO))
    if groove:
        bar = bar.cut(box(-inner + end_t, inner - end_t, -GROOVE_W / 2, GROOVE_W / 2, -1, 6.0))
    return bar


def end_bar(length, end_t, style, wire_rows, groove):
    """End bar standing on Z; X is its thickness, Y its width."""
    if style == "hoffman":
        shoulder = min(70.0, length * 0.3)
        taper = (HOFFMAN_W - NARROW_W) / 2
        wh, nh = HOFFMAN_W / 2, NARROW_W / 2
        pts = [(-nh, 0), (nh, 0), (nh, length - shoulder - taper), (wh, length - shoulder),
               (wh, length), (-wh, length), (-wh, length - shoulder), (-nh, length - shoulder - taper)]
    else:
        nh = NARROW_W / 2
        pts = [(-nh, 0), (nh, 0), (nh, length), (-nh, length)]
    bar = cq.Workplane("YZ").polyline(pts).close().extrude(end_t)
    if wire_rows > 0:
        zs = [length * (i + 1) / (wire_rows + 1) for i in range(wire_rows)]
        holes = (cq.Workplane("YZ").workplane(offset=-1).pushPoints([(0, z) for z in zs])
                 .circle(WIRE_D / 2).extrude(end_t + 2))
        bar = bar.cut(holes)
    if groove:
        # foundation groove on the inner face (+X), stopping short of the top shoulder
        bar = bar.cut(box(end_t - 3.0, end_t + 1, -GROOVE_W / 2, GROOVE_W / 2, -1, length - 10.0))
    return bar


def bottom_bar(groove):
    half = OUTSIDE_LENGTH / 2
    bar = box(-half, half, -BOTTOM_W / 2, BOTTOM_W / 2, 0, BOTTOM_T)
    if groove:
        bar = bar.cut(box(-half + 12.0, half - 12.0, -GROOVE_W / 2, GROOVE_W / 2, BOTTOM_T - 3.0, BOTTOM_T + 1))
    # two pilot holes at each end for the 1-1/4" frame nails into the end bars
    pilots = [(s * (half - 4.75), y) for s in (-1, 1) for y in (-5.0, 5.0)]
    return bar.cut(cq.Workplane("XY").workplane(offset=-1).pushPoints(pilots).circle(0.9).extrude(BOTTOM_T + 2))


def build(params):
    depth = DEPTHS[params["frame_depth"]]
    length = float(params["top_bar_length"])
    width = float(params["top_bar_width"])
    end_t = float(params["end_bar_thickness"])
    style = params["end_bar_style"]
    wires = int(params["wire_rows"])
    groove = bool(params["foundation_groove"])

    end_len = depth - (TOP_T - DADO) - BOTTOM_T
    return {
        "top_bar": top_bar(length, width, end_t, groove),
        "end_bar": end_bar(end_len, end_t, style, wires, groove),
        "bottom_bar": bottom_bar(groove),
    }

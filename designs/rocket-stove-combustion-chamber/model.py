"""Cast refractory combustion chamber for a rocket cooking stove.

A rocket stove burns sticks at the mouth of an insulated L- or J-shaped
channel. The hot chimney (riser) above the burn zone drafts air in so hard
that combustion is nearly smoke-free, and the insulated walls keep the flame
hot. The chamber is cast from an insulating refractory (perlite or vermiculite
with clay, or a castable) in two pieces, the elbow and the riser, joined by a
square collar, plus a bent steel fuel shelf.

The channel keeps the same cross-section the whole way (feed = tunnel =
riser area), the classic rule for good draft.
"""

import math

import cadquery as cq

COLLAR_H = 15.0
COLLAR_FIT = 1.5    # gap around the collar for refractory mortar
SHELF_T = 3.0       # steel sheet


def box(x0, x1, y0, y1, z0, z1):
    return cq.Workplane("XY").box(x1 - x0, y1 - y0, z1 - z0, centered=False).translate((x0, y0, z0))


def build(params):
    layout = params["layout"]
    c = float(params["channel_size"])
    w = float(params["wall_thickness"])
    tunnel = float(params["tunnel_length"])
    riser_h = float(params["riser_height"])
    feed_h = float(params["feed_height"])

    half = c / 2.0
    collar_w = w / 2.0

    if layout == "L":
        # horizontal feed tunnel entering at x = 0, riser at the far end
        rx0 = tunnel
        x_end = rx0 + c + w
        z_top = w + c + max(w, 0.5 * c)
        body = box(0, x_end, -half - w, half + w, 0, z_top)
        body = body.cut(box(-1, rx0 + c, -half, half, w, w + c))          # feed + burn tunnel
        body = body.cut(box(rx0, rx0 + c, -half, half, w, z_top + 1))     # riser stub
    else:
        # J: vertical fuel magazine at the front, tunnel along the bottom, riser at the back
        fx0 = w
        rx0 = fx0 + c + tunnel
        x_end = rx0 + c + w
        z_top = w + c + max(feed_h, w)
        body = box(0, x_end, -half - w, half + w, 0, z_top)
        body = body.cut(box(fx0, rx0 + c, -half, half, w, w + c))         # burn tunnel
        body = body.cut(box(fx0, fx0 + c, -half, half, w, z_top + 1))     # fuel magazine
        body = body.cut(box(rx0, rx0 + c, -half, half, w, z_top + 1))     # riser stub
        # air inlet slot under the magazine mouth, front face, for primary air
        body = body.cut(box(-1, fx0 + 1, -half * 0.6, half * 0.6, w, w + c * 0.3))

    # square collar around the riser opening; the riser section sits over it
    collar = (box(rx0 - collar_w, rx0 + c + collar_w, -half - collar_w, half + collar_w,
                  z_top - 0.01, z_top + COLLAR_H)
              .cut(box(rx0, rx0 + c, -half, half, z_top - 1, z_top + COLLAR_H + 1)))
    elbow = body.union(collar)

    # ---- riser section: the rest of the chimney height above the elbow
    rh = max(riser_h - (z_top - w), 2 * COLLAR_H + 40.0)
    riser = box(-half - w, half + w, -half - w, half + w, 0, rh)
    riser = riser.cut(box(-half, half, -half, half, -1, rh + 1))
    rebate = half + collar_w + COLLAR_FIT
    riser = riser.cut(box(-rebate, rebate, -rebate, rebate, -1, COLLAR_H + COLLAR_FIT))
    # pot-support notches: three gas exits cut into the top rim
    notch_w = min(30.0, c * 0.3)
    for ang in (0, 120, 240):
        n = box(0, half + w + 2, -notch_w / 2, notch_w / 2, rh - 12.0, rh + 1)
        riser = riser.cut(n.rotate((0, 0, 0), (0, 0, 1), ang + 90))

    # ---- fuel shelf: bent steel U-channel, fuel rides on top, air flows underneath
    shelf_w = c - 4.0
    shelf_h = max(c / 3.0, 25.0)
    shelf_len = (tunnel * 0.6 if layout == "L" else c - 4.0) + (80.0 if layout == "L" else 0.0)
    shelf = box(0, shelf_len, -shelf_w / 2, shelf_w / 2, shelf_h - SHELF_T, shelf_h)
    for s in (-1, 1):
        y0 = s * shelf_w / 2 - (SHELF_T if s > 0 else 0)
        shelf = shelf.union(box(0, shelf_len, y0, y0 + SHELF_T, 0, shelf_h - SHELF_T + 0.01))
    # air slots through the top so some air reaches the fuel from below
    slot_pitch = 25.0
    n_slots = max(1, int((shelf_len - 30.0) // slot_pitch))
    slots = (cq.Workplane("XY").workplane(offset=shelf_h - SHELF_T - 1)
             .pushPoints([(20.0 + i * slot_pitch, 0) for i in range(n_slots)])
             .slot2D(shelf_w * 0.6, 6.0, angle=90).extrude(SHELF_T + 2))
    shelf = shelf.cut(slots)

    return {"elbow": elbow, "riser": riser, "fuel_shelf": shelf}

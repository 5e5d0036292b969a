# Seed-tray dibber board: one press makes a tray's worth of sowing holes.
#
# A CQGI script, as CQ-editor and cq-cli run it: the constants below are its
# parameters, `cq` needs no import there, and show_object() names the part.

rows = 3
columns = 4
pitch = 40.0          # cell spacing of the tray, mm
peg_diameter = 12.0   # hole width at the surface
peg_depth = 15.0      # sowing depth: about 2-3 x the seed's size
board_thickness = 6.0
grip_height = 24.0

# Pegs taper like a pencil tip so they leave the soil without pulling it up.
taper_deg = 12.0

board = cq.Workplane("XY").rect(columns * pitch, rows * pitch).extrude(board_thickness)
board = board.edges("|Z").fillet(min(pitch / 4, 10.0))
pegs = (cq.Workplane("XY").rarray(pitch, pitch, columns, rows)
        .circle(peg_diameter / 2).extrude(-peg_depth, taper=taper_deg))
# A bar handle across the middle: press with the palm, lift with the fingers.
grip = (cq.Workplane("XY").workplane(offset=board_thickness)
        .rect(columns * pitch * 0.6, 18.0).extrude(grip_height)
        .faces(">Z").edges("|X").fillet(6.0))
dibber = board.union(pegs).union(grip)

debug(pegs)
show_object(dibber, name="board")

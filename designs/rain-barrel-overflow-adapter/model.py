# Rain barrel overflow adapter: a flanged bulkhead spout and its lock ring.
#
# A CQGI script as CQ-editor runs it. The two parts are shown with their names,
# one through show_object's `name`, one through its `options` dict, as scripts
# in the wild do both.

import cadquery as cq

hole_diameter = 32.0      # hole drilled in the barrel wall (a 32 mm hole saw)
hose_diameter = 25.0      # outside diameter of the overflow hose
wall = 2.4
flange_diameter = 56.0
flange_thickness = 4.0
spout_length = 35.0
barrel_wall = 4.0         # thickness of the barrel's plastic wall
ring_thickness = 5.0

bore = hose_diameter - 2 * wall
spout = (cq.Workplane("XY").circle(flange_diameter / 2).extrude(flange_thickness)
         # the collar passes through the barrel wall and takes the lock ring
         .faces(">Z").workplane().circle(hole_diameter / 2 - 0.3).extrude(barrel_wall + ring_thickness + 1.0)
         # the hose spout beyond it
         .faces(">Z").workplane().circle(hose_diameter / 2).extrude(spout_length)
         .faces(">Z").workplane().hole(bore))
# Barbs keep the hose on without a clamp.
for i in range(3):
    z = flange_thickness + barrel_wall + ring_thickness + 1.0 + 8.0 + i * 8.0
    barb = (cq.Workplane("XY").workplane(offset=z)
            .circle(hose_diameter / 2 + 1.2).workplane(offset=4.0).circle(hose_diameter / 2).loft()
            .faces(">Z").workplane().hole(bore))
    spout = spout.union(barb)

# Pressed over the collar from inside the barrel: 0.2 mm of interference holds it.
ring = (cq.Workplane("XY").polygon(8, flange_diameter).extrude(ring_thickness)
        .faces(">Z").workplane().hole(hole_diameter - 0.8))

show_object(spout, name="spout")
show_object(ring, options={"name": "lock_ring", "color": "gray"})

"""Code that runs inside the render sandbox (zygote, supervisors, workers).

Only the standard library, cadquery and this package may be imported here:
the sandbox has no access to the application, its settings or its database.
"""

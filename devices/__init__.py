"""Scanner, printer, drawer, display and scale drivers with simulators (issue: devices).

Nothing here yet. Devices import nothing of the project.
"""

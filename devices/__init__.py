"""Device drivers with simulators; imports nothing of the rest of Tillpoint.

- ``devices.scanner``: serial barcode scanner, keyboard-wedge detector, scanner simulator
- ``devices.scale``: continuous-output serial scale (protocol, driver, simulator)
- ``devices.display``: 2x20 VFD customer pole display and its simulator
- ``devices.printer``: ESC/POS receipt printer via python-escpos (transports, commands,
  decoder), including the cash-drawer kick
- ``devices.serial_lines`` (line reader thread) and ``devices.errors`` are shared helpers
"""

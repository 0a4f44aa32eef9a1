"""Receipt printer over python-escpos 3.x: transports, commands, and a byte decoder."""

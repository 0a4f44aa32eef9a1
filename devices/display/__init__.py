"""Customer pole display (2x20 VFD, Epson ESC/POS command set) and its simulator."""

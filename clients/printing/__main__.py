"""python -m clients.printing: the receipt demo (see clients/printing/demo.py)."""

from __future__ import annotations

import sys

from clients.printing.demo import main

if __name__ == "__main__":
    sys.exit(main())

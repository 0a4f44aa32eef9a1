"""Kivy settings that must be made before Kivy opens its window, and the CJK font.

Kivy's default font (Roboto) has no Chinese glyphs: every 可口可乐 would be boxes.
The till registers an installed CJK font under Kivy's default name instead.
"""

from __future__ import annotations

import os
from pathlib import Path

# Debian's fonts-wqy-zenhei (installed by `make system-deps`), then Noto CJK.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


def cjk_font() -> Path:
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    names = ", ".join(str(p) for p in FONT_CANDIDATES)
    raise FileNotFoundError(f"no CJK font found ({names}): run `make system-deps`")


def configure(width: int = 1024, height: int = 768) -> None:
    """Window size, no exit on Esc (Esc is 'back' at a till), the CJK font."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # The interruptible clock runs a callback scheduled from the presenter's worker
    # thread at once; the default clock sleeps out the rest of the frame interval
    # first (up to 1/60 s added to every scan). Read when kivy.clock is first imported.
    os.environ.setdefault("KIVY_CLOCK", "interrupt")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "log_level", os.environ.get("TILL_LOG_LEVEL", "warning"))
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "1")
    # No MSAA: the till draws axis-aligned rectangles and pre-antialiased text, which
    # multisampling cannot improve, and on a software renderer (Mesa llvmpipe, as
    # under Xvfb) Kivy's default 2x costs ~15 ms of CPU per frame for a blank window
    # and ~65 ms for the sell screen (115 ms -> 50 ms measured).
    Config.set("graphics", "multisamples", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    from kivy.core.text import LabelBase

    font = str(cjk_font())
    LabelBase.register(
        name="Roboto", fn_regular=font, fn_bold=font, fn_italic=font, fn_bolditalic=font
    )

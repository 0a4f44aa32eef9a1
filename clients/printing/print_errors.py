"""Printer failures as sentences a cashier can read, in Chinese and English.

The till shows these next to the pending receipt; the technical detail is kept apart
(PendingJob.detail) for support.
"""

from __future__ import annotations

import enum

from devices.errors import DeviceUnavailableError
from devices.printer.transports import PrinterConfigError


class Stage(enum.Enum):
    LAYOUT = "layout"  # the receipt itself could not be laid out
    OPEN = "open"
    WRITE = "write"


OFFLINE = (
    "打印机未连接或无法打开，小票已保存，接好打印机后会自动补打。"
    " Printer not connected: the receipt is saved and prints when the printer is back."
)
DISCONNECTED = (
    "打印中打印机断开或出错，小票已保存，将重新打印。"
    " The printer stopped while printing: the receipt is saved and will print again."
)
BAD_RECEIPT = (
    "这张小票无法打印，请联系管理员。 This receipt cannot be printed: please call a supervisor."
)
MISCONFIGURED = (
    "打印机设置有误，请联系管理员。小票已保存。"
    " The printer settings are wrong: please call a supervisor. The receipt is saved."
)
INTERRUPTED = (
    "上次打印被中断（收银程序重启），将补打一张标注“重印 COPY”的小票。"
    " Printing was interrupted by a restart: the receipt will print again marked COPY."
)


def cashier_message(exc: BaseException, stage: Stage) -> str:
    """What went wrong, for the till's screen."""
    if stage is Stage.LAYOUT:
        return BAD_RECEIPT
    if isinstance(exc, PrinterConfigError):
        return MISCONFIGURED
    if stage is Stage.OPEN or isinstance(exc, DeviceUnavailableError):
        return OFFLINE
    if isinstance(exc, (ValueError, TypeError)):
        # The receipt itself (a character the encoding lacks, a bad receipt number):
        # retrying will not help, a person has to look.
        return BAD_RECEIPT
    # OSError (EIO from an unplugged printer, a dead pty), escpos errors, the rest.
    return DISCONNECTED

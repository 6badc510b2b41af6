"""What a process forked by the run launcher's forkserver reports about itself (test_run_launcher)."""

from __future__ import annotations

import os
import sys

WATCHED = ("json.tool", "xml.dom.minidom")


def report(status) -> None:
    status.send(
        {"pid": os.getpid(), "parent": os.getppid(), "loaded": {m: m in sys.modules for m in WATCHED}}
    )
    status.close()

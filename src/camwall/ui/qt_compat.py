"""The few places where the Qt bindings (or their type stubs) differ, in one module.

mypy reads qtpy as if it were PyQt5, whose stubs lack qtpy's ``Signal`` alias and the
connection-type argument of ``connect``; every other module stays binding-neutral.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtCore import Signal as Signal  # type: ignore[attr-defined]


def connect_queued(signal: Any, slot: Callable[..., object]) -> None:
    """Connect ``slot`` so it always runs later on its receiver's thread, never inline."""
    signal.connect(slot, Qt.ConnectionType.QueuedConnection)

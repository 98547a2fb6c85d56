"""Widgets the dialogs build the same way: a named line edit, an editable combo box, a
selectable message line, a busy bar. The object names are for tests and style sheets."""

from __future__ import annotations

from typing import TypeVar

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QLabel, QLineEdit, QProgressBar, QWidget

W = TypeVar("W", bound=QWidget)


def _named(widget: W, name: str) -> W:
    widget.setObjectName(name)
    return widget


def line_edit(parent: QWidget, name: str, placeholder: str) -> QLineEdit:
    """A line edit with a placeholder."""
    edit = _named(QLineEdit(parent), name)
    edit.setPlaceholderText(placeholder)
    return edit


def editable_combo(parent: QWidget, name: str) -> QComboBox:
    """A combo box whose text can also be typed; typed text is not added as an item."""
    box = _named(QComboBox(parent), name)
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    return box


def message_label(parent: QWidget, name: str) -> QLabel:
    """A wrapping label whose text people can select (to copy an error message)."""
    label = _named(QLabel(parent), name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def busy_bar(parent: QWidget, name: str) -> QProgressBar:
    """A hidden progress bar that only says "busy" (how long a camera takes is unknown)."""
    bar = _named(QProgressBar(parent), name)
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.hide()
    return bar

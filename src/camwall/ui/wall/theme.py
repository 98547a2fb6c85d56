"""The wall's look: a dark theme by default (cameras read better on dark), light on request.

Fusion style with a palette, so every binding and platform looks the same; the tiles paint
their own colours and are not affected. The choice is remembered with the layout.
"""

from __future__ import annotations

from typing import Literal

from qtpy.QtGui import QColor, QPalette
from qtpy.QtWidgets import QApplication, QStyleFactory

__all__ = ["THEMES", "Theme", "apply_theme", "current_theme"]

Theme = Literal["dark", "light"]
THEMES: tuple[Theme, ...] = ("dark", "light")

_DARK: dict[QPalette.ColorRole, tuple[int, int, int]] = {
    QPalette.ColorRole.Window: (32, 34, 38),
    QPalette.ColorRole.WindowText: (226, 228, 232),
    QPalette.ColorRole.Base: (22, 24, 27),
    QPalette.ColorRole.AlternateBase: (38, 41, 46),
    QPalette.ColorRole.ToolTipBase: (44, 48, 54),
    QPalette.ColorRole.ToolTipText: (236, 238, 242),
    QPalette.ColorRole.PlaceholderText: (130, 134, 140),
    QPalette.ColorRole.Text: (226, 228, 232),
    QPalette.ColorRole.Button: (44, 47, 52),
    QPalette.ColorRole.ButtonText: (226, 228, 232),
    QPalette.ColorRole.BrightText: (255, 90, 90),
    QPalette.ColorRole.Link: (90, 160, 255),
    QPalette.ColorRole.Highlight: (52, 120, 220),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
}
_DISABLED = (120, 123, 128)

_current: Theme | None = None


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Give ``app`` the dark or the light theme (Fusion style, a palette)."""
    global _current
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    if theme == "light":
        app.setPalette(app.style().standardPalette())  # type: ignore[union-attr]
    else:
        palette = QPalette()
        for role, rgb in _DARK.items():
            palette.setColor(role, QColor(*rgb))
        for role in (
            QPalette.ColorRole.Text,
            QPalette.ColorRole.ButtonText,
            QPalette.ColorRole.WindowText,
        ):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(*_DISABLED))
        app.setPalette(palette)
    _current = theme


def current_theme() -> Theme | None:
    """The theme applied last (None: the platform's own look)."""
    return _current

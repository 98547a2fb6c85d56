"""Pixel formats a frame ring carries."""

from __future__ import annotations

import enum


class PixelFormat(enum.IntEnum):
    """Layout of one pixel in a ring slot; the value is stored in the slot header."""

    BGRA = 1  # 4 bytes: B, G, R, A — QImage.Format_RGB32/ARGB32 on little-endian, paint-ready
    RGB = 2  # 3 bytes: R, G, B
    BGR = 3  # 3 bytes: B, G, R (OpenCV's order)
    GRAY = 4  # 1 byte

    @property
    def channels(self) -> int:
        """Bytes per pixel (all formats are 8 bits per channel)."""
        return _CHANNELS[self]

    @classmethod
    def for_channels(cls, channels: int) -> PixelFormat:
        """The default format for an array with ``channels`` channels."""
        try:
            return _BY_CHANNELS[channels]
        except KeyError:
            raise ValueError(
                f"frames must have 1, 3 or 4 channels of uint8, not {channels}"
            ) from None


_CHANNELS = {PixelFormat.BGRA: 4, PixelFormat.RGB: 3, PixelFormat.BGR: 3, PixelFormat.GRAY: 1}
_BY_CHANNELS = {4: PixelFormat.BGRA, 3: PixelFormat.RGB, 1: PixelFormat.GRAY}

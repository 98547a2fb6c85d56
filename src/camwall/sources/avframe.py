"""A frame decoded by PyAV, converted to BGRA (once, on demand) into the caller's pixels."""

from __future__ import annotations

from av.video.frame import VideoFrame

from camwall.sources.base import Pixels, SourceFrame
from camwall.sources.convert import FrameConverter


class PyAVFrame(SourceFrame):
    """A decoded frame; converted (once) by :meth:`convert_into`."""

    def __init__(
        self,
        frame: VideoFrame,
        converter: FrameConverter,
        capture_ns: int,
        decode_ns: int,
        detect_converter: FrameConverter | None = None,
    ) -> None:
        """Wrap a decoded PyAV frame (valid until the source's next read)."""
        self.av_frame = frame
        self._converter = converter
        self._detect_converter = detect_converter
        self.width = frame.width
        self.height = frame.height
        self.pts = frame.pts
        self.capture_ns = capture_ns
        self.decode_ns = decode_ns

    @property
    def pix_fmt(self) -> str:
        """The decoder's pixel format (``yuv420p``, ``yuvj420p``, ``nv12``, ...)."""
        return str(self.av_frame.format.name)

    def convert_into(self, dst: Pixels) -> None:
        """Write the frame as BGRA into ``dst``, scaling to ``dst``'s size if it differs."""
        self._converter.convert(self.av_frame, dst)

    def convert_for_detection(self, dst: Pixels) -> None:
        """The detect-sized copy, with a scaler of its own (sharing one would rebuild it on
        every frame, alternating between the tile's size and the detector's)."""
        (self._detect_converter or self._converter).convert(self.av_frame, dst)

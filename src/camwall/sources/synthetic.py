"""A synthetic camera: colour bars, a moving box, a frame counter and a clock, at any size.

URL form: ``synthetic://NAME?width=2560&height=1440&fps=25`` (all parameters optional;
``cost_ms=20`` makes each frame cost that much CPU, like a decoder would).
Test knobs, for exercising the capture state machine without a network:
``fail_after=N`` (the stream is lost after N frames), ``stall_after=N`` (the stream stays
open but stops delivering), ``resize_at=N&resize_to=WxH`` (resolution change at frame N).

The picture is cheap to make (one copy of a cached background plus two small drawings) and
drawn straight into the destination, at the destination's size, so it needs no conversion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from camwall.errors import InvalidSourceError, StreamLostError
from camwall.sources.base import Pixels, Source, SourceFrame, SourceSettings, StreamInfo

SCHEME = "synthetic"
#: The eight vertical bars across the top two thirds, left to right, as BGRA.
BAR_COLORS_BGRA: tuple[tuple[int, int, int, int], ...] = (
    (255, 255, 255, 255),  # white
    (0, 255, 255, 255),  # yellow
    (255, 255, 0, 255),  # cyan
    (0, 255, 0, 255),  # green
    (255, 0, 255, 255),  # magenta
    (0, 0, 255, 255),  # red
    (255, 0, 0, 255),  # blue
    (0, 0, 0, 255),  # black
)
BOX_COLOR_BGRA = (0, 128, 255, 255)  # orange
LOWER_GREY = 64  # the bottom third's background value


@dataclass(frozen=True, slots=True)
class SyntheticParams:
    """Parsed ``synthetic://`` URL."""

    name: str
    width: int = 2560
    height: int = 1440
    fps: float = 25.0
    fail_after: int | None = None
    stall_after: int | None = None
    resize_at: int | None = None
    resize_to: tuple[int, int] | None = None
    #: CPU milliseconds each frame costs to "decode" (burnt in the reading thread): stands in
    #: for a real decoder's cost, e.g. to create a CPU shortage in tests and benchmarks.
    cost_ms: float = 0.0

    @classmethod
    def parse(cls, url: str) -> SyntheticParams:
        """Parse a synthetic URL; raise InvalidSourceError naming the bad parameter."""
        parts = urlsplit(url)
        if parts.scheme != SCHEME:
            raise InvalidSourceError(f"{url!r} is not a synthetic:// URL")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        known = {
            "width",
            "height",
            "fps",
            "fail_after",
            "stall_after",
            "resize_at",
            "resize_to",
            "cost_ms",
        }
        unknown = sorted(set(query) - known)
        if unknown:
            raise InvalidSourceError(
                f"synthetic source: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )

        def number(key: str, default: float | None, kind: type = int) -> float | None:
            if key not in query:
                return default
            try:
                value = kind(query[key])
            except ValueError:
                raise InvalidSourceError(
                    f"synthetic source: {key}={query[key]!r} is not a number"
                ) from None
            if value <= 0:
                raise InvalidSourceError(f"synthetic source: {key} must be positive, not {value}")
            return value  # type: ignore[no-any-return]

        resize_to = None
        if "resize_to" in query:
            try:
                w, h = (int(v) for v in query["resize_to"].lower().split("x"))
            except ValueError:
                raise InvalidSourceError(
                    f"synthetic source: resize_to={query['resize_to']!r} must look like 1280x720"
                ) from None
            resize_to = (w, h)
        width, height = int(number("width", 2560) or 0), int(number("height", 1440) or 0)
        if width < 16 or height < 16 or width > 16384 or height > 16384:
            raise InvalidSourceError(
                f"synthetic source: size {width}×{height} is out of range (16..16384)"
            )
        fail = number("fail_after", None)
        stall = number("stall_after", None)
        resize = number("resize_at", None)
        return cls(
            name=parts.netloc or parts.path.strip("/") or "synthetic",
            width=width,
            height=height,
            fps=float(number("fps", 25.0, float) or 25.0),
            fail_after=None if fail is None else int(fail),
            stall_after=None if stall is None else int(stall),
            resize_at=None if resize is None else int(resize),
            resize_to=resize_to,
            cost_ms=float(number("cost_ms", 0.0, float) or 0.0),
        )


def _burn(ms: float) -> None:
    """Use ``ms`` of this thread's CPU time (a decoder's cost, without a decoder)."""
    end = time.thread_time_ns() + int(ms * 1e6)
    while time.thread_time_ns() < end:
        pass


def background(width: int, height: int) -> Pixels:
    """The still part of the picture at this size: bars on top, grey below."""
    img = np.empty((height, width, 4), np.uint8)
    top = height * 2 // 3
    edges = [round(i * width / len(BAR_COLORS_BGRA)) for i in range(len(BAR_COLORS_BGRA) + 1)]
    for color, x0, x1 in zip(BAR_COLORS_BGRA, edges, edges[1:], strict=False):
        img[:top, x0:x1] = color
    img[top:] = (LOWER_GREY, LOWER_GREY, LOWER_GREY, 255)
    return img


def box_rect(width: int, height: int, index: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the moving box in frame ``index`` at this size."""
    top = height * 2 // 3
    size = max(4, (height - top) // 2)
    travel = max(1, width - size)
    step = max(1, width // 200)
    pos = (index * step) % (2 * travel)
    x0 = pos if pos < travel else 2 * travel - pos
    y0 = top + (height - top - size) // 2
    return x0, y0, x0 + size, y0 + size


class SyntheticFrame(SourceFrame):
    """A frame that is drawn when converted (there is nothing to decode)."""

    def __init__(self, source: SyntheticSource, index: int, width: int, height: int) -> None:
        self._source = source
        self.index = index
        self.width = width
        self.height = height
        self.pts = index
        self.capture_ns = time.monotonic_ns()
        self.decode_ns = 0

    def convert_into(self, dst: Pixels) -> None:
        """Draw the frame straight into ``dst`` at ``dst``'s size."""
        h, w = dst.shape[:2]
        np.copyto(dst, self._source.background_for(w, h))
        x0, y0, x1, y1 = box_rect(w, h, self.index)
        dst[y0:y1, x0:x1] = BOX_COLOR_BGRA
        scale = max(0.4, h / 720)
        text = f"{self._source.params.name}  #{self.index}  {time.strftime('%H:%M:%S')}"
        org = (int(12 * scale), int(h * 2 // 3 - 14 * scale))
        cv2.putText(
            dst, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0, 255), max(1, int(5 * scale))
        )
        cv2.putText(
            dst,
            text,
            org,
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255, 255),
            max(1, int(2 * scale)),
        )


class SyntheticSource(Source):
    """Frames made on the fly at the requested rate (see the module docstring)."""

    def __init__(self, settings: SourceSettings) -> None:
        """Parse the URL now so a bad parameter fails before any worker starts."""
        super().__init__(settings)
        self.params = SyntheticParams.parse(settings.url)
        self._backgrounds: dict[tuple[int, int], Pixels] = {}
        self._start = 0.0
        self._index = -1
        self._open = False

    def open(self) -> StreamInfo:
        """Start the clock; a synthetic source always opens."""
        self._start = time.monotonic()
        self._index = -1
        self._open = True
        p = self.params
        self.info = StreamInfo(
            self.display_url, "synthetic", p.width, p.height, p.fps, None, "bgra"
        )
        return self.info

    def background_for(self, width: int, height: int) -> Pixels:
        """The cached background at this size."""
        bg = self._backgrounds.get((width, height))
        if bg is None:
            if len(self._backgrounds) > 4:
                self._backgrounds.clear()
            bg = self._backgrounds[(width, height)] = background(width, height)
        return bg

    def read(self) -> SyntheticFrame:
        """Wait for the next frame time and return that frame (skipping any we fell behind on)."""
        if not self._open:
            raise StreamLostError(f"{self.display_url}: read before open")
        p = self.params
        nxt = self._index + 1
        if p.fail_after is not None and nxt >= p.fail_after:
            raise StreamLostError(
                f"{self.display_url}: stream ended after {p.fail_after} frames (fail_after)"
            )
        if p.stall_after is not None and nxt >= p.stall_after:
            # Connected but silent: block until interrupted or the stall timeout passes.
            self._interrupted.wait(self.settings.stall_timeout_s)
            raise StreamLostError(
                f"{self.display_url}: no frame for {self.settings.stall_timeout_s:.1f} s (stream stalled)"
            )
        due = self._start + nxt / p.fps
        now = time.monotonic()
        if now > due + 1 / p.fps:
            # Like a live camera, frames that were due while nobody read are gone.
            skipped = int((now - due) * p.fps)
            self.stats.extra["skipped"] = self.stats.extra.get("skipped", 0) + skipped
            nxt += skipped
        elif now < due and self._interrupted.wait(due - now):
            raise StreamLostError(f"{self.display_url}: interrupted")
        self._index = nxt
        if p.cost_ms:
            _burn(p.cost_ms)
        width, height = p.width, p.height
        if p.resize_at is not None and p.resize_to is not None and nxt >= p.resize_at:
            width, height = p.resize_to
        self.stats.frames += 1
        return SyntheticFrame(self, nxt, width, height)

    def close(self) -> None:
        """Nothing to release but the cached backgrounds."""
        self._open = False
        self._backgrounds.clear()

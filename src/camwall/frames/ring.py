"""FrameRing: the newest video frames of one camera in shared memory, without tearing or backlog.

Layout of a segment (all header numbers are little-endian, naturally aligned 8-byte words)::

    page 0   global header     magic, version, slot count, slot capacity, slot stride,
                                latest published sequence, owner pid + start time, successor
             slot headers       one 64-byte record per slot at byte 256 + 64*i:
                                seq, width, height, stride, pixel format, pts, capture_ns, nbytes
    page 1…  slot i's pixels    at HEADER_SIZE + i * slot_stride (page aligned)

Protocol (a seqlock per slot, one writer, any number of readers in any processes). Frame
number ``s`` (1, 2, 3, …) always goes into slot ``s % slots``; that slot's ``seq`` word is
``2s - 1`` while the frame is being written and ``2s`` once it is complete.

Writer, publishing frame ``s``::

    slot.seq = 2s - 1           # "being written": readers of the old frame there will notice
    fence()
    metadata + pixels
    fence()
    slot.seq = 2s               # complete
    header.latest = s           # readers now pick it

Reader::

    s = header.latest           # 0: nothing published yet
    q1 = slot(s).seq            # must be 2s, else the writer already reused the slot: retry
    fence()
    metadata + pixels           # copy them, or paint from them
    fence()
    q2 = slot(s).seq            # 2s again: the copy is intact; anything else: torn, retry

A reader is lapped only if the writer publishes ``slots - 1`` frames and starts another while
one read is in progress. The fences and why they suffice on x86-64 and arm64 are explained in
:mod:`camwall.frames._fence`. The writer keeps no state of its own between frames (it reads
``latest`` from the header), so a restarted writer process simply continues the sequence.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from camwall.errors import (
    FrameTooLargeError,
    RingClosedError,
    RingFormatError,
    RingNotFoundError,
    RingOwnershipError,
)
from camwall.frames import _shm
from camwall.frames._fence import select_fence
from camwall.frames.pixfmt import PixelFormat
from camwall.frames.stale import process_start_ticks, reclaim_stale

log = logging.getLogger(__name__)

MAGIC: Final = int.from_bytes(b"CAMWRING", "little")
VERSION: Final = 1
PAGE: Final = 4096
HEADER_SIZE: Final = PAGE
MAX_SLOTS: Final = 60  # slot headers must fit in the header page
NO_PTS: Final = -(2**63)
_READ_ATTEMPTS: Final = 8

# Global header word indices (8-byte words from offset 0).
_H_MAGIC, _H_VERSION, _H_SLOTS, _H_CAPACITY, _H_STRIDE, _H_LATEST = 0, 1, 2, 3, 4, 5
_H_OWNER_PID, _H_OWNER_START, _H_SUCCESSOR_LEN, _H_CREATED_NS = 6, 7, 8, 9
_SUCCESSOR_OFFSET: Final = 128  # bytes 128..255 hold the successor ring's name
_SUCCESSOR_MAX: Final = 128
_SLOT_WORDS0: Final = 256 // 8  # first slot header word
# Slot header word offsets.
_S_SEQ, _S_WIDTH, _S_HEIGHT, _S_STRIDE, _S_FMT, _S_PTS, _S_CAPTURE, _S_NBYTES = range(8)

_PREFIX_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_reclaimed_prefixes: set[str] = set()

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Frame:
    """A consistent copy of one published frame."""

    array: Pixels
    seq: int
    width: int
    height: int
    fmt: PixelFormat
    pts: int | None
    capture_ns: int


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """Metadata of a published frame, without pixels."""

    seq: int
    width: int
    height: int
    stride: int
    fmt: PixelFormat
    pts: int | None
    capture_ns: int


class FrameView:
    """Zero-copy access to the newest slot, valid only inside ``FrameRing.view_latest()``.

    ``array`` points straight into shared memory: the writer may overwrite it at any moment.
    Use the pixels (paint, convert, hash), *then* call :meth:`intact`; if it returns False the
    result is torn and must be discarded.
    """

    __slots__ = ("_ring", "_seq_word", "array", "info")

    def __init__(self, ring: FrameRing, seq_word: int, info: FrameInfo, array: Pixels) -> None:
        self._ring = ring
        self._seq_word = seq_word
        self.info = info
        self.array = array

    @property
    def seq(self) -> int:
        """Sequence number of the frame being viewed."""
        return self.info.seq

    def intact(self) -> bool:
        """True if the writer has not touched this slot since the view was taken."""
        self._ring._fence()
        return bool(self._ring._words[self._seq_word] == 2 * self.info.seq)


class FrameRing:
    """A ring of N frame slots in one shared-memory segment; see the module docstring."""

    def __init__(self, segment: _shm.Segment, *, owner: bool) -> None:
        """Wrap a mapped segment; use :meth:`create` or :meth:`attach` instead."""
        self._segment = segment
        self._mapping = segment.mapping
        self._raw = memoryview(segment.mapping)
        self._words = self._raw[:HEADER_SIZE].cast("q")
        self._owner = owner
        self._closed = False
        self.fence_kind, self._fence = select_fence()
        w = self._words
        if w[_H_MAGIC] != MAGIC:
            self._release()
            raise RingFormatError(
                f"shared-memory segment {segment.name!r} is not a camwall frame ring"
            )
        if w[_H_VERSION] != VERSION:
            version = w[_H_VERSION]
            self._release()
            raise RingFormatError(
                f"frame ring {segment.name!r} has layout version {version}, this camwall "
                f"understands {VERSION}; run the same camwall version in every process"
            )
        self._slots = int(w[_H_SLOTS])
        self._capacity = int(w[_H_CAPACITY])
        self._stride = int(w[_H_STRIDE])
        expected = HEADER_SIZE + self._slots * self._stride
        if not 3 <= self._slots <= MAX_SLOTS or segment.size < expected:
            self._release()
            raise RingFormatError(f"frame ring {segment.name!r} has a corrupt header")
        #: Reads that found their slot overwritten mid-copy (dropped and retried).
        self.torn_reads = 0
        #: Reads that found the newest slot already reused before they began.
        self.lapped_reads = 0
        self._finalizer: weakref.finalize[..., FrameRing] | None = None
        if owner:
            self._finalizer = weakref.finalize(self, _unlink_if_owner, segment.name, os.getpid())

    # -- construction --------------------------------------------------------------------

    @classmethod
    def create(cls, capacity: int, *, slots: int = 3, prefix: str = "camwall") -> FrameRing:
        """Create a new ring owned by this process; ``capacity`` is the pixel bytes per slot."""
        if capacity <= 0:
            raise ValueError(f"capacity must be a positive number of bytes, not {capacity}")
        if not 3 <= slots <= MAX_SLOTS:
            raise ValueError(f"slots must be between 3 and {MAX_SLOTS}, not {slots}")
        if not _PREFIX_RE.match(prefix):
            raise ValueError(
                f"prefix {prefix!r} must be 1-32 letters, digits or underscores "
                "(it is parsed back out of segment names)"
            )
        if prefix not in _reclaimed_prefixes:
            _reclaimed_prefixes.add(prefix)
            reclaim_stale(prefix)
        stride = -(-capacity // PAGE) * PAGE
        size = HEADER_SIZE + slots * stride
        pid = os.getpid()
        name = f"{prefix}-{pid}-{secrets.token_hex(4)}"
        segment = _shm.create(name, size)
        words = memoryview(segment.mapping)[:HEADER_SIZE].cast("q")
        words[_H_VERSION] = VERSION
        words[_H_SLOTS] = slots
        words[_H_CAPACITY] = capacity
        words[_H_STRIDE] = stride
        words[_H_LATEST] = 0
        words[_H_OWNER_PID] = pid
        words[_H_OWNER_START] = process_start_ticks(pid)
        words[_H_CREATED_NS] = time.time_ns()
        words[_H_MAGIC] = MAGIC  # last: a half-initialised segment is never taken for a ring
        words.release()
        log.debug("created frame ring %s: %d slots of %d bytes", name, slots, capacity)
        return cls(segment, owner=True)

    @classmethod
    def attach(cls, name: str) -> FrameRing:
        """Attach to an existing ring by name; the ring is never unlinked through this object."""
        try:
            segment = _shm.attach(name)
        except FileNotFoundError:
            raise RingNotFoundError(
                f"no frame ring named {name!r}: its owner has stopped or re-created it"
            ) from None
        except ValueError as exc:
            raise RingFormatError(str(exc)) from None
        return cls(segment, owner=False)

    @staticmethod
    def capacity_for(width: int, height: int, channels: int = 4) -> int:
        """Slot capacity needed for frames of this size."""
        return width * height * channels

    # -- properties ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The segment name other processes attach to."""
        return self._segment.name

    @property
    def slots(self) -> int:
        """Number of frame slots."""
        return self._slots

    @property
    def capacity(self) -> int:
        """Largest frame, in bytes, one slot can hold."""
        return self._capacity

    @property
    def is_owner(self) -> bool:
        """True for the ring returned by :meth:`create` (the one that unlinks)."""
        return self._owner

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed

    @property
    def latest_seq(self) -> int:
        """Sequence number of the newest published frame (0: none yet). Cheap."""
        self._check_open()
        return int(self._words[_H_LATEST])

    @property
    def owner_pid(self) -> int:
        """Process id of the ring's owner."""
        self._check_open()
        return int(self._words[_H_OWNER_PID])

    @property
    def successor(self) -> str | None:
        """Name of the ring that replaced this one (after a resolution change), if any."""
        self._check_open()
        n = int(self._words[_H_SUCCESSOR_LEN])
        if not 0 < n <= _SUCCESSOR_MAX:
            return None
        raw = bytes(self._raw[_SUCCESSOR_OFFSET : _SUCCESSOR_OFFSET + n])
        return raw.decode("ascii", errors="replace")

    def set_successor(self, name: str) -> None:
        """Record that readers should move to ring ``name`` (this ring gets no more frames)."""
        self._check_open()
        data = name.encode("ascii")
        if len(data) > _SUCCESSOR_MAX:
            raise ValueError(f"ring name {name!r} is longer than {_SUCCESSOR_MAX} bytes")
        self._raw[_SUCCESSOR_OFFSET : _SUCCESSOR_OFFSET + len(data)] = data
        self._fence()
        self._words[_H_SUCCESSOR_LEN] = len(data)

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def write(
        self,
        width: int,
        height: int,
        fmt: PixelFormat = PixelFormat.BGRA,
        *,
        pts: int | None = None,
        capture_ns: int | None = None,
    ) -> Iterator[Pixels]:
        """Yield a writable H×W×C view of the next slot; the frame is published on exit.

        If the block raises, the frame is not published (the slot stays marked as being
        written, which readers treat as invalid).
        """
        self._check_open()
        fmt = PixelFormat(fmt)
        channels = fmt.channels
        nbytes = width * height * channels
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, not {width}×{height}")
        if nbytes > self._capacity:
            raise FrameTooLargeError(nbytes, self._capacity, (height, width, channels))
        if capture_ns is None:
            capture_ns = time.monotonic_ns()
        w = self._words
        s = int(w[_H_LATEST]) + 1
        slot = s % self._slots
        base = _SLOT_WORDS0 + 8 * slot
        w[base + _S_SEQ] = 2 * s - 1
        self._fence()
        stride = width * channels
        w[base + _S_WIDTH] = width
        w[base + _S_HEIGHT] = height
        w[base + _S_STRIDE] = stride
        w[base + _S_FMT] = int(fmt)
        w[base + _S_PTS] = NO_PTS if pts is None else pts
        w[base + _S_CAPTURE] = capture_ns
        w[base + _S_NBYTES] = nbytes
        view = self._slot_array(slot, height, stride).reshape(height, width, channels)
        yield view
        self._fence()
        w[base + _S_SEQ] = 2 * s
        w[_H_LATEST] = s

    def publish(
        self,
        array: Pixels,
        *,
        pts: int | None = None,
        capture_ns: int | None = None,
        fmt: PixelFormat | None = None,
    ) -> int:
        """Copy one frame (H×W×4 BGRA, H×W×3 RGB, or H×W grey, uint8) in; return its seq."""
        if array.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 arrays, not {array.dtype}")
        if array.ndim == 2:
            channels = 1
        elif array.ndim == 3:
            channels = array.shape[2]
        else:
            raise ValueError(f"frames must be H×W or H×W×C arrays, not shape {array.shape}")
        if fmt is None:
            fmt = PixelFormat.for_channels(channels)
        elif fmt.channels != channels:
            raise ValueError(
                f"{fmt.name} frames have {fmt.channels} channels, the array has {channels}"
            )
        height, width = array.shape[:2]
        with self.write(width, height, fmt, pts=pts, capture_ns=capture_ns) as dst:
            np.copyto(dst, array.reshape(dst.shape))
        return self.latest_seq

    # -- reading -------------------------------------------------------------------------

    def _slot_info(self, s: int, base: int) -> FrameInfo | None:
        """Metadata of slot word ``base`` for frame ``s``, or None if it is implausible (torn)."""
        w = self._words
        width, height, stride = (
            int(w[base + _S_WIDTH]),
            int(w[base + _S_HEIGHT]),
            int(w[base + _S_STRIDE]),
        )
        try:
            fmt = PixelFormat(int(w[base + _S_FMT]))
        except ValueError:
            return None
        if (
            width <= 0
            or height <= 0
            or stride < width * fmt.channels
            or stride * height > self._capacity
        ):
            return None
        pts = int(w[base + _S_PTS])
        return FrameInfo(
            s, width, height, stride, fmt, None if pts == NO_PTS else pts, int(w[base + _S_CAPTURE])
        )

    def _slot_array(self, slot: int, height: int, stride: int) -> Pixels:
        # np.frombuffer holds a buffer export on the mapping for as long as the array (or any
        # view of it) lives, so close() can never unmap memory under a live array;
        # np.ndarray(buffer=mmap) does not, and would leave a dangling pointer.
        flat = np.frombuffer(
            self._mapping, np.uint8, count=height * stride, offset=HEADER_SIZE + slot * self._stride
        )
        return flat.reshape(height, stride)

    def _pixels(self, slot: int, info: FrameInfo) -> Pixels:
        channels = info.fmt.channels
        rows = self._slot_array(slot, info.height, info.stride)
        return rows[:, : info.width * channels].reshape(info.height, info.width, channels)

    def _begin_read(self) -> tuple[int, int, FrameInfo] | None:
        """Find the newest complete slot: (slot, seq word index, info), or None if empty."""
        w = self._words
        for _ in range(_READ_ATTEMPTS):
            s = int(w[_H_LATEST])
            if s == 0:
                return None
            slot = s % self._slots
            base = _SLOT_WORDS0 + 8 * slot
            if w[base + _S_SEQ] != 2 * s:
                self.lapped_reads += 1
                continue
            self._fence()
            info = self._slot_info(s, base)
            if info is None:
                self.torn_reads += 1
                continue
            return slot, base + _S_SEQ, info
        return None

    def read_latest(self, out: Pixels | None = None) -> Frame | None:
        """Return a consistent copy of the newest frame, or None if none is published yet.

        ``out`` may be a preallocated array of the frame's shape to copy into (saves the
        allocation and its page faults on every call).
        """
        self._check_open()
        for _ in range(_READ_ATTEMPTS):
            found = self._begin_read()
            if found is None:
                return None
            slot, seq_word, info = found
            src = self._pixels(slot, info)
            if out is not None and out.shape == src.shape and out.dtype == np.uint8:
                dst = out
                np.copyto(dst, src)
            else:
                dst = src.copy()
            self._fence()
            if self._words[seq_word] == 2 * info.seq:
                return Frame(
                    dst, info.seq, info.width, info.height, info.fmt, info.pts, info.capture_ns
                )
            self.torn_reads += 1
        return None

    @contextmanager
    def view_latest(self) -> Iterator[FrameView | None]:
        """Yield a zero-copy :class:`FrameView` of the newest frame (None if none yet)."""
        self._check_open()
        found = self._begin_read()
        if found is None:
            yield None
            return
        slot, seq_word, info = found
        view = FrameView(self, seq_word, info, self._pixels(slot, info))
        try:
            yield view
        finally:
            # Drop our reference so the mapping can close once the caller lets go too.
            view.array = _EMPTY

    def latest_info(self) -> FrameInfo | None:
        """Metadata of the newest frame without touching its pixels."""
        self._check_open()
        found = self._begin_read()
        return None if found is None else found[2]

    # -- lifetime ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RingClosedError(f"frame ring {self._segment.name!r} is closed")

    def _release(self) -> None:
        self._words.release()
        self._raw.release()
        try:
            self._mapping.close()
        except BufferError:
            # A caller still holds a NumPy view into the slots; the mapping is unmapped when
            # that view is garbage-collected instead.
            log.warning(
                "frame ring %s closed while a view into it is still referenced", self._segment.name
            )

    def close(self) -> None:
        """Unmap the segment; the owner should call :meth:`unlink` first. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._release()

    def unlink(self) -> None:
        """Remove the segment's name (owner only); attached processes keep their mapping."""
        if not self._owner:
            raise RingOwnershipError(
                f"frame ring {self._segment.name!r} was attached, not created, here; "
                "only its owner unlinks it"
            )
        if self._finalizer is not None:
            self._finalizer.detach()
        _shm.unlink(self._segment.name)

    def __enter__(self) -> FrameRing:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owner:
            self.unlink()
        self.close()

    def __repr__(self) -> str:
        role = "owner" if self._owner else "attached"
        state = "closed" if self._closed else f"{self._slots}×{self._capacity} B"
        return f"<FrameRing {self._segment.name} {role} {state}>"


_EMPTY: Pixels = np.zeros((0, 0, 4), dtype=np.uint8)


def _unlink_if_owner(name: str, owner_pid: int) -> None:
    # A forked child inherits the finalizer; only the creating process may unlink.
    if os.getpid() == owner_pid and _shm.unlink(name):
        log.debug("unlinked frame ring %s at exit", name)

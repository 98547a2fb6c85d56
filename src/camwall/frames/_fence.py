"""Memory fences for the frame ring's seqlock, chosen for the CPU we run on.

The ring's protocol (see ``ring.py``) needs exactly two orderings:

* the writer's store that marks a slot "being written" becomes visible before any pixel
  store that follows it, and its pixel stores become visible before the store that marks the
  slot "done" (store→store);
* the reader's load of a slot's sequence happens before its pixel loads, and its pixel loads
  happen before the second load of the sequence (load→load).

**x86-64 (TSO).** The hardware never reorders a store with an older store, nor a load with an
older load, so both orderings come for free; the only reordering x86 allows (a store with a
later load) is not one the protocol relies on. What remains is the compiler: each header
access and each pixel copy is a separate C call made by the CPython interpreter (memoryview
item assignment, NumPy ``copyto``/``cvtColor``), opaque to one another, so no compiler can move
memory accesses across them. The fence is therefore a no-op.

**arm64 and every other CPU.** Loads and stores may be reordered freely, so the ring calls a
real fence, ``atomic_thread_fence(memory_order_seq_cst)`` from GCC's ``libatomic`` (``dmb ish`` on
arm64), between the sequence accesses and the pixel accesses, on both sides. This is the
textbook fenced seqlock (H.-J. Boehm, "Can seqlocks get along with programming language memory
models?", MSPC 2012). The 8-byte header words are naturally aligned, so every load/store of
one is single-copy atomic on both architectures: a sequence number is never read half-written.

Setting ``CAMWALL_RING_FENCE=libatomic`` forces the real fence on x86 too (the tests run the
stress test that way as well, so the arm64 code path is exercised here).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Callable

from camwall.errors import RingError

_SEQ_CST = 5  # __ATOMIC_SEQ_CST
_TSO_MACHINES = {"x86_64", "amd64", "i386", "i686", "x86"}


def _noop() -> None:
    return None


def _libatomic_fence() -> Callable[[], None]:
    path = ctypes.util.find_library("atomic") or "libatomic.so.1"
    try:
        lib = ctypes.CDLL(path)
        fn = lib.atomic_thread_fence
    except (OSError, AttributeError) as exc:
        raise RingError(
            f"this CPU ({platform.machine()}) needs real memory fences for the frame ring, "
            "taken from GCC's libatomic, which could not be loaded; install it "
            "(Debian/Ubuntu: apt install libatomic1)"
        ) from exc
    fn.argtypes = [ctypes.c_int]
    fn.restype = None

    def fence() -> None:
        fn(_SEQ_CST)

    return fence


def select_fence() -> tuple[str, Callable[[], None]]:
    """Return (kind, fence function) for this CPU, honouring ``CAMWALL_RING_FENCE``."""
    forced = os.environ.get("CAMWALL_RING_FENCE", "").strip().lower()
    if forced == "libatomic":
        return "libatomic", _libatomic_fence()
    if forced not in ("", "auto"):
        raise RingError(
            f"CAMWALL_RING_FENCE={forced!r} is not understood; use 'auto' or 'libatomic'"
        )
    if platform.machine().lower() in _TSO_MACHINES:
        return "tso", _noop
    return "libatomic", _libatomic_fence()

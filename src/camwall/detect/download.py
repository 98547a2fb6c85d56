"""Download one file over HTTP(S): resumable (``.part`` + Range), size- and sha256-checked.

The bytes go to ``<partial_dir>/<name>.part``; only a complete file whose size and sha256
match is renamed (atomically) to its destination, so the destination folder never holds a
half-written file. A download cut short keeps its ``.part`` and the next call asks the
server for the rest (``Range: bytes=N-``); a server that ignores Range sends it all again.
A file that fails its checksum is deleted: a corrupt file cannot be resumed into a good one.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from camwall import __version__
from camwall.errors import ModelChecksumError, ModelDownloadError
from camwall.redact import mask_url

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


@dataclass
class Progress:
    """A one-line progress bar on a stream (stderr), redrawn at most 10 times a second.

    On a stream that is not a terminal (a log file, CI) only the final state is written.
    """

    label: str
    stream: IO[str] | None = None
    width: int = 30
    _total: int | None = None
    _start_at: int = 0
    _t0: float = field(default_factory=time.monotonic)
    _last: float = 0.0
    _drawn: bool = False

    @property
    def _tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def start(self, total: int | None, resumed_from: int) -> None:
        """A transfer of ``total`` bytes (None: unknown) begins at ``resumed_from``."""
        self._total, self._start_at, self._t0 = total, resumed_from, time.monotonic()
        if resumed_from and self.stream is not None:
            self.stream.write(f"{self.label}: resuming at {_mb(resumed_from)}\n")

    def update(self, done: int, *, force: bool = False) -> None:
        """``done`` bytes of the file are on disk."""
        now = time.monotonic()
        if self.stream is None or (not force and (now - self._last < 0.1 or not self._tty)):
            return
        self._last = now
        rate = (done - self._start_at) / max(1e-3, now - self._t0)
        if self._total:
            frac = min(1.0, done / self._total)
            bar = "#" * int(frac * self.width)
            line = (
                f"\r{self.label} [{bar:<{self.width}}] {frac:4.0%} "
                f"{_mb(done)}/{_mb(self._total)} {_mb(rate)}/s"
            )
        else:
            line = f"\r{self.label} {_mb(done)} {_mb(rate)}/s"
        self.stream.write(line)
        self.stream.flush()
        self._drawn = True

    def finish(self, done: int) -> None:
        """Draw the final state and end the line."""
        self.update(done, force=True)
        if self.stream is not None and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A verified file: where it is, its size and sha256, and how many bytes this call fetched."""

    path: Path
    size: int
    sha256: str
    fetched: int


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.rsplit("@", 1)[-1] or url


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None,
    size: int | None = None,
    partial_dir: Path,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> Downloaded:
    """Fetch ``url`` to ``dest`` (see the module docstring); raises ModelDownloadError/ChecksumError.

    ``sha256`` None: nothing to check against (the caller decided that is acceptable); the
    returned digest is what was downloaded.
    """
    partial_dir.mkdir(parents=True, exist_ok=True)
    part = partial_dir / f"{dest.name}.part"
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        log.info("%s is longer than the expected %d bytes; starting over", part, size)
        part.unlink()
        offset = 0
    fetched = 0
    if size is None or offset < size:
        fetched = _transfer(url, part, offset, size, progress, timeout)
    return _verify_and_install(part, dest, sha256=sha256, size=size, fetched=fetched)


def _transfer(
    url: str,
    part: Path,
    offset: int,
    size: int | None,
    progress: Progress | None,
    timeout: float,
) -> int:
    shown = mask_url(url)
    headers = {"User-Agent": f"camwall/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            exc.close()
            return 0  # the .part already holds everything; the checksum decides
        exc.close()
        raise ModelDownloadError(
            f"{shown}: the server answered HTTP {exc.code} {exc.reason}"
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        what = "timed out" if isinstance(reason, TimeoutError) else str(reason)
        raise ModelDownloadError(
            f"cannot reach {_host(url)} ({what}); check the network or the URL, then run the "
            "same command again" + (" to resume" if offset else "")
        ) from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise ModelDownloadError(f"{shown}: {exc or type(exc).__name__}") from None
    with response:
        status = response.status
        length = response.headers.get("Content-Length")
        remaining = int(length) if length and length.isdigit() else None
        if offset and status == 206:
            m = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != offset:
                raise ModelDownloadError(
                    f"{shown}: the server resumed at the wrong place "
                    f"({response.headers.get('Content-Range')!r} for byte {offset})"
                )
            mode = "ab"
        else:
            if offset:
                log.info("%s ignores Range requests; downloading all of it again", _host(url))
            offset, mode = 0, "wb"
        total = offset + remaining if remaining is not None else size
        if progress is not None:
            progress.start(total, offset)
        done = offset
        try:
            with part.open(mode) as f:
                while chunk := response.read(CHUNK):
                    f.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress.update(done)
                f.flush()
                os.fsync(f.fileno())
        except TimeoutError:
            raise ModelDownloadError(
                f"{shown}: no data for {timeout:g} s after {_mb(done)}; the partial download is "
                "kept: run the same command again to resume"
            ) from None
        except (http.client.IncompleteRead, ConnectionError) as exc:
            raise ModelDownloadError(
                f"{shown}: the connection broke after {_mb(done)} ({type(exc).__name__}); the "
                "partial download is kept: run the same command again to resume"
            ) from None
        finally:
            if progress is not None:
                progress.finish(done)
        if total is not None and done < total:
            raise ModelDownloadError(
                f"{shown}: the download was cut short at {done} of {total} bytes; the partial "
                "download is kept: run the same command again to resume"
            )
        return done - offset


def _verify_and_install(
    part: Path, dest: Path, *, sha256: str | None, size: int | None, fetched: int
) -> Downloaded:
    got_size = part.stat().st_size
    digest = sha256_of(part)
    if size is not None and got_size != size:
        part.unlink()
        raise ModelChecksumError(
            f"{dest.name}: downloaded {got_size} bytes, expected {size}; the file was discarded "
            "(the server may now serve a different file): try again, or check the source"
        )
    if sha256 is not None and digest != sha256:
        part.unlink()
        raise ModelChecksumError(
            f"{dest.name}: sha256 mismatch: expected {sha256}, got {digest}; the file was "
            "discarded. It was corrupted on the way or the source changed: try again, and if "
            "it happens again do not use this file"
        )
    part.replace(dest)
    return Downloaded(dest, got_size, digest, fetched)

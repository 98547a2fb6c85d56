"""Snapshot callbacks: save the frame (or the object) when a track appears."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np

from camwall.detect.detections import Image
from camwall.detect.messages import TrackEvent

log = logging.getLogger(__name__)


class JpegSnapshots:
    """Write ``<camera>-<label>-<track>-<time>.jpg`` into ``directory``; picklable.

    ``crop``: save only the object's box grown by ``margin`` (else the whole frame, with the
    box drawn). Runs in the detection worker, on the frame the object appeared in. At most
    one snapshot per camera and label every ``min_interval_s`` (event time): a busy scene
    (motion, a crowd) would otherwise write a JPEG for every short track.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        crop: bool = False,
        margin: float = 0.2,
        quality: int = 85,
        min_interval_s: float = 10.0,
    ) -> None:
        """Save snapshots as JPEG files under ``directory`` (created if missing)."""
        self.directory = Path(directory)
        self.crop = crop
        self.margin = margin
        self.quality = quality
        self.min_interval_s = min_interval_s
        #: (camera, label) → event time of the last snapshot saved.
        self._last: dict[tuple[str, str], float] = {}

    def __call__(self, event: TrackEvent, image: Image) -> str | None:
        """Save the snapshot of ``event`` taken from ``image``; its path, or None (failed, or
        one of this camera and label was saved less than ``min_interval_s`` ago)."""
        key = (event.camera, event.label)
        last = self._last.get(key)
        if last is not None and 0 <= event.time - last < self.min_interval_s:
            return None
        x0, y0, x1, y1 = event.box
        h, w = image.shape[:2]
        bgr = image[:, :, :3] if image.shape[2] == 4 else image
        if self.crop:
            mx, my = (x1 - x0) * self.margin, (y1 - y0) * self.margin
            ix0, iy0 = max(0, int(x0 - mx)), max(0, int(y0 - my))
            ix1, iy1 = min(w, int(np.ceil(x1 + mx))), min(h, int(np.ceil(y1 + my)))
            out = np.ascontiguousarray(bgr[iy0:iy1, ix0:ix1])
        else:
            out = np.ascontiguousarray(bgr)
            cv2.rectangle(out, (int(x0), int(y0)), (int(x1), int(y1)), (0, 0, 255), 2)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(event.time))
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in event.camera)
        label = event.label.replace(" ", "_")
        path = self.directory / f"{safe}-{label}-{event.track_id}-{stamp}.jpg"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ok = cv2.imwrite(str(path), out, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        except (OSError, cv2.error) as exc:
            log.warning("cannot save snapshot %s: %s", path, exc)
            return None
        if not ok:
            log.warning("cannot save snapshot %s (disk full or unwritable?)", path)
            return None
        self._last[key] = event.time
        return str(path)

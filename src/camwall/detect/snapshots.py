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
    box drawn). Runs in the detection worker, on the frame the object appeared in.
    """

    def __init__(
        self, directory: str | Path, *, crop: bool = False, margin: float = 0.2, quality: int = 85
    ) -> None:
        """Save snapshots as JPEG files under ``directory`` (created if missing)."""
        self.directory = Path(directory)
        self.crop = crop
        self.margin = margin
        self.quality = quality

    def __call__(self, event: TrackEvent, image: Image) -> str | None:
        """Save the snapshot of ``event`` taken from ``image``; return its path, None on failure."""
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
        return str(path)

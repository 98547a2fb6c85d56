"""From the config to what the parts run: capture specs, the detector, per-camera detection.

Pure functions of a :class:`~camwall.config.Config`; nothing here starts anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from camwall.capture.spec import BackoffPolicy, CameraSpec, RecordingSpec
from camwall.config import Camera, Config
from camwall.detect.filters import ObjectFilter
from camwall.detect.masks import Mask
from camwall.detect.spec import DetectorKind, DetectorSpec, PipelineConfig
from camwall.detect.tracker import TrackerConfig
from camwall.errors import ConfigError, InvalidSourceError
from camwall.sources import SourceSettings
from camwall.sources.factory import source_kind

log = logging.getLogger(__name__)

Stream = Literal["main", "sub"]
#: "auto": the main stream for cameras that record or have masks (recordings keep full
#: quality; masks are drawn in main-stream pixels), the substream, if any, for the others.
StreamChoice = Literal["main", "sub", "auto"]
#: The built-in detector when the config names no model: OpenCV's HOG people detector
#: (ships with OpenCV 4, no download).
BUILTIN_DETECTOR: DetectorKind = "people"
#: ONNX models report candidates from this score on; the per-label thresholds decide.
ONNX_CANDIDATE_SCORE = 0.25


def choose_stream(camera: Camera, choice: StreamChoice = "auto") -> Stream:
    """The stream to capture for ``camera``: its main stream or its substream."""
    if camera.substream_url is None:
        return "main"
    if choice != "auto":
        return choice
    return "main" if camera.record or camera.record_on_events or camera.masks else "sub"


def detect_stream(camera: Camera) -> Stream:
    """The stream that feeds ``camera``'s detection: fixed, whatever the wall shows.

    ``detect_stream = "auto"`` is the substream when the camera has one, else the main
    stream. Raises ConfigError for "substream" on a camera without a substream.
    """
    if camera.detect_stream == "substream":
        if camera.substream_url is None:
            raise ConfigError(
                f'camera {camera.name!r}: detect_stream is "substream" but it has no '
                'substream_url; set one, or use "main" or "auto"',
                key="detect_stream",
            )
        return "sub"
    if camera.detect_stream == "main" or camera.substream_url is None:
        return "main"
    return "sub"


def camera_spec(
    config: Config,
    camera: Camera,
    *,
    stream: StreamChoice = "auto",
    env: Mapping[str, str] | None = None,
    stats_interval_s: float = 1.0,
    backoff: BackoffPolicy | None = None,
    max_size: tuple[int, int] | None = None,
) -> CameraSpec:
    """The capture spec of ``camera``: URL with the password from the environment, transport,
    stream, recording. Raises ConfigError if the password variable is unset."""
    chosen = choose_stream(camera, stream)
    url = camera.resolved_url(env) if chosen == "main" else camera.resolved_substream_url(env)
    assert url is not None  # choose_stream picks "sub" only when there is a substream
    try:
        is_file = source_kind(url) == "file"
    except InvalidSourceError:
        is_file = False  # the worker reports the bad URL as the camera's FAILED state
    source = SourceSettings(
        url,
        transport=camera.transport,
        # A video file standing in for a camera plays forever, like a camera.
        loop=is_file,
        # None: adaptive (the first frame may be a long GOP away; slow cameras are slow).
        read_timeout_s=camera.read_timeout_s,
        first_frame_timeout_s=camera.first_frame_timeout_s,
    )
    recording = None
    if camera.record:
        recording = RecordingSpec(
            directory=config.recording_dir(),
            segment_seconds=config.recording.segment_seconds,
            camera=camera.name,
        )
    level = logging.getLevelName(config.log_level)
    return CameraSpec(
        name=camera.name,
        source=source,
        max_size=max_size,
        backoff=backoff or BackoffPolicy(),
        stats_interval_s=stats_interval_s,
        log_level=level if isinstance(level, int) else logging.INFO,
        recording=recording,
    )


def detector_spec(config: Config) -> DetectorSpec:
    """The detector ``[detection]`` asks for: its ONNX model, else the built-in one."""
    model = config.model_path()
    if model is None:
        return DetectorSpec(kind=BUILTIN_DETECTOR)
    labels = config.labels_path()
    lowest = min([config.detection.threshold, *config.detection.thresholds.values()])
    return DetectorSpec(
        kind="onnx",
        model=str(model),
        labels=None if labels is None else str(labels),
        score_threshold=min(ONNX_CANDIDATE_SCORE, lowest),
    )


def pipeline_config(config: Config) -> PipelineConfig:
    """Filtering and tracking with ``[detection]``'s per-label thresholds."""
    scores = {"*": config.detection.threshold, **config.detection.thresholds}
    return PipelineConfig(
        filter=ObjectFilter(min_score=scores), tracker=TrackerConfig(confirm_score=scores)
    )


@dataclass(frozen=True, slots=True)
class CameraDetection:
    """How one camera is detected on: rate and mask."""

    fps: float
    mask: Mask | None


def camera_detection(config: Config, camera: Camera, stream: Stream) -> CameraDetection | None:
    """Detection settings of ``camera`` captured on ``stream``, or None if it does not detect."""
    if not camera.detect:
        return None
    mask = Mask.of(camera.masks) if camera.masks else None
    if mask is not None and stream == "sub":
        log.warning(
            "%s: masks are in main-stream pixels but the substream is captured; "
            "they may cover the wrong areas",
            camera.name,
        )
    return CameraDetection(config.detect_fps(camera), mask)

"""Motion detection, masks on motion, and motion-gated object detection on synthetic scenes."""

from __future__ import annotations

import cv2
import numpy as np
import skimage.data

from camwall.detect import (
    CameraPipeline,
    GateConfig,
    HaarFaceDetector,
    Mask,
    MotionConfig,
    MotionDetector,
    MotionGatedDetector,
    PipelineConfig,
    box_iou,
)

W, H = 640, 360


def background() -> np.ndarray:
    """A still, textured BGRA scene (gradient plus fixed noise)."""
    rng = np.random.default_rng(1)
    x = np.linspace(40, 200, W, dtype=np.float32)
    grey = np.broadcast_to(x, (H, W)) + rng.normal(0, 4, (H, W))
    img = np.clip(grey, 0, 255).astype(np.uint8)
    return np.dstack([img, img, img, np.full_like(img, 255)])


def with_square(bg: np.ndarray, x: int, y: int, size: int = 60) -> np.ndarray:
    img = bg.copy()
    img[y : y + size, x : x + size, :3] = (20, 230, 240)
    return img


def square_box(x: int, y: int, size: int = 60) -> np.ndarray:
    return np.array([[x, y, x + size, y + size]], np.float32)


def test_still_frames_give_no_motion() -> None:
    motion = MotionDetector()
    bg = background()
    for _ in range(5):
        assert len(motion.detect(bg)) == 0


def test_moving_square_gives_a_box_over_it() -> None:
    motion = MotionDetector()
    bg = background()
    motion.detect(bg)
    for step in range(1, 6):
        x, y = 100 + 40 * step, 150
        found = motion.detect(with_square(bg, x, y))
        assert len(found) >= 1, step
        assert set(found.labels) == {"motion"}
        # Some box covers the square (motion boxes also cover where it just was).
        cover = box_iou(found.boxes, square_box(x, y))[:, 0]
        inside = (found.boxes[:, 0] <= x + 2) & (found.boxes[:, 2] >= x + 58)
        assert cover.max() > 0.2 and inside.any(), (step, found.boxes)


def test_motion_inside_a_mask_is_ignored() -> None:
    bg = background()
    # Mask the square's whole path (drawn on a 1280×720 frame: scales down to this one).
    mask = Mask.of([[(120, 260), (1200, 260), (1200, 460), (120, 460)]], reference_size=(1280, 720))
    motion = MotionDetector(mask=mask)
    motion.detect(bg)
    for step in range(1, 6):
        assert len(motion.detect(with_square(bg, 100 + 40 * step, 150))) == 0
    # Outside the mask, motion is still seen.
    assert len(motion.detect(with_square(bg, 300, 20))) >= 1


def test_staged_prepare_does_not_touch_the_background() -> None:
    motion = MotionDetector()
    bg = background()
    motion.detect(bg)
    moved = with_square(bg, 200, 100)
    first = motion.prepare(moved)
    again = motion.prepare(moved)  # e.g. a torn frame re-prepared: same answer
    np.testing.assert_array_equal(first.detections.boxes, again.detections.boxes)
    assert len(motion.infer(first)) >= 1


def test_global_change_reports_whole_frame_once_and_relearns() -> None:
    motion = MotionDetector(MotionConfig(reset_fraction=0.5))
    bg = background()
    motion.detect(bg)
    bright = np.clip(bg.astype(np.int16) + 80, 0, 255).astype(np.uint8)
    first = motion.detect(bright)
    np.testing.assert_allclose(first.boxes, [[0, 0, W, H]])
    assert len(motion.detect(bright)) == 0


def astronaut_scene() -> tuple[np.ndarray, np.ndarray]:
    """A 1280×720 still scene, and the same with a half-size astronaut photo at (700, 300).

    Her face is then about 47 px: found in a crop at full resolution, too small once the
    whole frame is shrunk to 640 px for the face detector — what gating is for.
    """
    rng = np.random.default_rng(2)
    scene = rng.integers(90, 110, (720, 1280, 3), dtype=np.uint8)
    photo = np.ascontiguousarray(skimage.data.astronaut()[:, :, ::-1])
    person = cv2.resize(photo, (256, 256), interpolation=cv2.INTER_AREA)
    moved = scene.copy()
    moved[300:556, 700:956] = person
    return scene, moved


FACE = np.array([[700 + 86, 300 + 31, 700 + 139, 300 + 84]], np.float32)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_gated_detector_runs_only_where_there_is_motion() -> None:
    scene, moved = astronaut_scene()
    clock = FakeClock()
    gated = MotionGatedDetector(
        HaarFaceDetector(), MotionDetector(), GateConfig(refresh_s=60.0), clock=clock
    )
    first = gated.infer_full(gated.prepare(scene))  # no background yet: a full-frame pass
    assert first.region == (0, 0, 1280, 720) and len(first.detections) == 0
    clock.t += 1
    still = gated.infer_full(gated.prepare(scene))
    assert still.region is None and len(still.motion) == 0  # nothing moved: detector skipped
    clock.t += 1
    result = gated.infer_full(gated.prepare(moved))
    assert result.region is not None and result.region != (0, 0, 1280, 720)
    x0, y0, x1, y1 = result.region
    assert x0 <= 700 and y0 <= 300 and x1 >= 956 and y1 >= 556  # the crop holds the photo
    assert box_iou(result.detections.boxes, FACE)[:, 0].max() > 0.5, result.detections
    # The same detector on the whole frame misses the (too small) face.
    assert len(HaarFaceDetector().detect(moved)) == 0


def test_gated_pipeline_respects_the_mask() -> None:
    scene, moved = astronaut_scene()
    mask = Mask.of([[(650, 250), (1000, 250), (1000, 600), (650, 600)]])
    pipe = CameraPipeline(
        HaarFaceDetector(), PipelineConfig(gate=True, gating=GateConfig(refresh_s=3600)), mask
    )
    pipe.run(scene)
    out = pipe.run(moved)
    assert out.motion is not None and len(out.motion) == 0
    assert out.region is None and len(out.detections) == 0
    # Ungated, the face is found but its centre is in the mask, so it is dropped as well.
    full_res = HaarFaceDetector(work_width=1280)
    assert len(CameraPipeline(full_res, PipelineConfig(), mask).run(moved).detections) == 0
    assert len(CameraPipeline(full_res).run(moved).detections) >= 1

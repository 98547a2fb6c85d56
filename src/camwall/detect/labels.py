"""Class labels: COCO-80 (what YOLO models ship with), a labels file, or a model's metadata."""

from __future__ import annotations

import ast
from pathlib import Path

from camwall.errors import ModelLoadError

COCO80: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
)  # fmt: skip


def load_labels(path: str | Path) -> tuple[str, ...]:
    """Labels from a text file, one per line (blank lines at the end are ignored)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelLoadError(f"labels file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"cannot read labels file {p}: {exc}") from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ModelLoadError(f"labels file {p} is empty; it needs one label per line")
    return tuple(lines)


def labels_from_metadata(names: str | None) -> tuple[str, ...] | None:
    """Labels from an Ultralytics export's ``names`` metadata (``{0: 'person', ...}``), if any."""
    if not names:
        return None
    try:
        parsed = ast.literal_eval(names)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(parsed, dict) and parsed:
        try:
            keys = sorted(int(k) for k in parsed)
        except (TypeError, ValueError):
            return None
        if keys != list(range(len(keys))):
            return None
        return tuple(str(parsed[k] if k in parsed else parsed[str(k)]) for k in keys)
    if isinstance(parsed, list | tuple) and parsed:
        return tuple(str(v) for v in parsed)
    return None


def label_for(labels: tuple[str, ...], class_id: int) -> str:
    """The label of ``class_id``, or ``class <id>`` when the labels list is shorter."""
    return labels[class_id] if 0 <= class_id < len(labels) else f"class {class_id}"

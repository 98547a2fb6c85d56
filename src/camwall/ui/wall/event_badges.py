"""What each camera says it sees right now (its own ONVIF events) → tile badges and log lines.

The runtime hands the wall every :class:`~camwall.control.onvif.events.CameraEvent`; this
object keeps, per camera, which topics are active (a camera may report motion from several
sources — a cell-motion detector and a motion alarm — and the badge stays while any is on),
says which badges a tile shows ("MOTION", "TAMPER") and logs one line per change of state
("camera reports motion" / "motion ended"; pulses such as a line crossing, one line each).
A lost subscription clears the camera's badges: its state is unknown until the camera
reports again (a new subscription starts with the current state, "Initialized").
No Qt here: the window calls :meth:`EventBadges.on_event` and repaints the tile it names.
"""

from __future__ import annotations

import logging

from camwall.control.onvif.events import CameraEvent, EventKind, EventsState, EventsStatus
from camwall.runtime import RuntimeEvent

log = logging.getLogger(__name__)

#: The kinds shown on a tile while active, in the order shown, with their labels.
BADGES: dict[EventKind, str] = {EventKind.MOTION: "MOTION", EventKind.TAMPER: "TAMPER"}
#: Events with no "off": each one is a line in the log.
_PULSES = (EventKind.LINE, EventKind.FIELD)
_WORDS = {
    EventKind.MOTION: "motion",
    EventKind.TAMPER: "tampering",
    EventKind.INPUT: "input",
    EventKind.LINE: "a line crossing",
    EventKind.FIELD: "an object in a field",
    EventKind.OTHER: "an event",
}


def _key(event: CameraEvent) -> tuple[str, tuple[tuple[str, str], ...]]:
    """One state per topic and source (a camera's two inputs share a topic)."""
    return event.topic, tuple(sorted(event.source.items()))


class EventBadges:
    """Per-camera active events; see the module docstring."""

    def __init__(self) -> None:
        """No camera has reported anything yet."""
        self._active: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], EventKind]] = {}

    def on_event(self, event: RuntimeEvent) -> str | None:
        """Take one runtime event; the camera whose badges changed, or None."""
        payload = event.payload
        if isinstance(payload, EventsStatus):
            if payload.state is EventsState.SUBSCRIBED or not self._active.get(payload.camera):
                return None
            before = self.badges(payload.camera)
            self._active.pop(payload.camera, None)
            return payload.camera if before else None
        if not isinstance(payload, CameraEvent):
            return None
        camera = payload.camera
        active = self._active.setdefault(camera, {})
        before = self.badges(camera)
        key = _key(payload)
        was = key in active
        what = _WORDS[payload.kind]
        if payload.kind in _PULSES:
            if payload.active:
                log.info("camera reports %s (%s)", what, payload.topic, extra={"camera": camera})
            return None
        if payload.active and not was:
            active[key] = payload.kind
            log.info("camera reports %s (%s)", what, payload.topic, extra={"camera": camera})
        elif not payload.active and was:
            del active[key]
            log.info("%s ended (%s)", what, payload.topic, extra={"camera": camera})
        return camera if self.badges(camera) != before else None

    def badges(self, camera: str) -> list[str]:
        """The badges camera ``camera``'s tile shows now, e.g. ["MOTION"]."""
        kinds = set(self._active.get(camera, {}).values())
        return [label for kind, label in BADGES.items() if kind in kinds]

    def forget(self, camera: str) -> None:
        """Camera ``camera`` left the wall."""
        self._active.pop(camera, None)

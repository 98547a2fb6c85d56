"""What the runtime does when a camera reports an event of its own (issue 18).

Two per-camera options act on the camera's ONVIF events
(:class:`~camwall.control.onvif.events.CameraEvent`):

* ``record_on_events``: an active event of a listed kind triggers the capture worker's
  event recording (pre-roll, then ``post_roll_s`` after the last trigger);
* ``detect_when = "camera_motion"``: the detection worker skips the model on that camera
  while the camera reports no motion (:class:`MotionGate`).

Pure decisions: no threads, no I/O; the runtime calls these under its lock.
"""

from __future__ import annotations

from camwall.config import Camera
from camwall.control.onvif.events import CameraEvent, EventKind, EventsState, EventsStatus


def trigger_key(camera: Camera, event: CameraEvent, key: str | None, stream: str) -> str | None:
    """The capture worker to trigger for ``event`` on ``camera``, or None.

    Only active events of a kind the camera records on, and only the main-stream worker
    (the one that records; a camera recording on events stays on its main stream).
    """
    if not event.active or event.kind.value not in camera.record_on_events:
        return None
    if key is None or stream != "main":
        return None
    return key


class MotionGate:
    """Per camera: is the camera's own motion detector on (any of its sources)?

    Unknown (no subscription yet, or it was lost) counts as motion: a camera whose events
    cannot be heard is never left undetected.
    """

    def __init__(self) -> None:
        """No camera known yet."""
        self._active: dict[str, set[tuple[str, tuple[tuple[str, str], ...]]]] = {}
        self._subscribed: set[str] = set()

    def update(self, payload: object) -> str | None:
        """Take a camera event or subscription state; the camera whose answer changed."""
        if isinstance(payload, EventsStatus):
            before = self.motion(payload.camera)
            if payload.state is EventsState.SUBSCRIBED:
                self._subscribed.add(payload.camera)
            else:
                self._subscribed.discard(payload.camera)
                self._active.pop(payload.camera, None)
            return payload.camera if self.motion(payload.camera) != before else None
        if not isinstance(payload, CameraEvent) or payload.kind is not EventKind.MOTION:
            return None
        camera = payload.camera
        before = self.motion(camera)
        # Events only come over a subscription: hearing one means the camera is heard.
        self._subscribed.add(camera)
        active = self._active.setdefault(camera, set())
        key = (payload.topic, tuple(sorted(payload.source.items())))
        if payload.active:
            active.add(key)
        else:
            active.discard(key)
        return camera if self.motion(camera) != before else None

    def motion(self, camera: str) -> bool:
        """True while ``camera`` reports motion, or while its events are not heard."""
        if camera not in self._subscribed:
            return True
        return bool(self._active.get(camera))

    def forget(self, camera: str) -> None:
        """Camera ``camera`` was removed."""
        self._active.pop(camera, None)
        self._subscribed.discard(camera)

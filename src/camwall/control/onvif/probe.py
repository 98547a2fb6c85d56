"""Read what an ONVIF camera's Imaging and PTZ services offer, from zeep's answer objects.

Probing never raises for a missing or broken service: every feature it cannot confirm comes
back unavailable with the reason, so the rest of the camera stays usable.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from camwall.control.model import Feature, Range, StreamRole
from camwall.errors import (
    ControlAuthError,
    ControlConnectionError,
    ControlError,
    ControlTimeoutError,
)

log = logging.getLogger(__name__)

IMAGING_NS = "http://www.onvif.org/ver20/imaging/wsdl"
PTZ_NS = "http://www.onvif.org/ver20/ptz/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
#: Relative pan/tilt in fractions of the current field of view: (1, 1) is the picture's
#: top-right corner (right and up positive), so a RelativeMove by a picture point centres it.
FOV_SPACE = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationSpaceFov"

Call = Callable[[Any, str, "dict[str, Any] | None"], Awaitable[Any]]


def attr(obj: Any, *path: str) -> Any:
    """``obj.a.b.c`` or None where any step is missing (zeep objects and dicts alike)."""
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def as_float(value: Any) -> float | None:
    """A float, or None for missing/garbled values."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def as_range(obj: Any) -> Range | None:
    """A Range from an ONVIF FloatRange (Min/Max), or None."""
    lo, hi = as_float(attr(obj, "Min")), as_float(attr(obj, "Max"))
    if lo is None or hi is None:
        return None
    try:
        return Range(lo, hi)
    except ValueError:
        return None


def as_seconds(value: Any) -> float | None:
    """Seconds of a zeep xs:duration value (timedelta or isodate Duration)."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else None


@dataclass
class FocusSetup:
    """What the Imaging service offers for focus, and the ranges to scale requests with."""

    continuous: Feature
    absolute: Feature
    relative: Feature
    auto: Feature
    one_push: Feature
    status: Feature
    continuous_speed: Range | None = None
    absolute_position: Range | None = None
    absolute_speed: Range | None = None
    relative_distance: Range | None = None
    relative_speed: Range | None = None
    auto_mode: str | None = None

    @classmethod
    def missing(cls, reason: str) -> FocusSetup:
        """No focus control at all, for one reason."""
        gone = Feature.missing(reason)
        return cls(gone, gone, gone, gone, gone, gone)


@dataclass
class PtzSetup:
    """What the PTZ service offers, and the ranges to scale requests with."""

    zoom_continuous: Feature
    zoom_absolute: Feature
    zoom_status: Feature
    pan_tilt_continuous: Feature
    pan_tilt_centre: Feature
    presets: Feature
    profile_token: str | None = None
    zoom_velocity: Range | None = None
    zoom_position: Range | None = None
    pan_velocity: Range | None = None
    tilt_velocity: Range | None = None
    timeout_range: Range | None = None
    #: The node's field-of-view translation space (its URI and x/y ranges), if it has one.
    fov_space: str | None = None
    fov_pan: Range | None = None
    fov_tilt: Range | None = None
    pan_tilt: bool = False
    zoom: bool = False
    notes: list[str] = field(default_factory=list)

    @classmethod
    def missing(cls, reason: str) -> PtzSetup:
        """No PTZ control at all, for one reason."""
        gone = Feature.missing(reason)
        return cls(gone, gone, gone, gone, gone, gone)


def _why(err: ControlError, service: str) -> str:
    if isinstance(err, ControlAuthError):
        return f"the camera refused this user access to its {service} service"
    return str(err)


def _unreachable(err: ControlError) -> bool:
    """True for errors that say nothing about the camera's features (it did not answer)."""
    return isinstance(err, ControlTimeoutError | ControlConnectionError)


async def probe_focus(call: Call, service: Any, video_source: str) -> FocusSetup:
    """Ask the Imaging service which focus moves and modes it offers."""
    req = {"VideoSourceToken": video_source}
    try:
        moves = await call(service, "GetMoveOptions", req)
    except ControlError as err:
        if _unreachable(err):
            return FocusSetup.missing(f"focus control is unavailable: {err}")
        return FocusSetup.missing(f"the camera offers no focus motor ({_why(err, 'Imaging')})")
    cont, absolute, rel = (
        attr(moves, "Continuous"),
        attr(moves, "Absolute"),
        attr(moves, "Relative"),
    )
    setup = FocusSetup(
        continuous=Feature.when(cont is not None, "the camera offers no continuous focus move"),
        absolute=Feature.when(absolute is not None, "the camera offers no absolute focus position"),
        relative=Feature.when(rel is not None, "the camera offers no relative focus step"),
        auto=Feature.missing("not probed"),
        one_push=Feature.missing("not probed"),
        status=Feature.missing("not probed"),
        continuous_speed=as_range(attr(cont, "Speed"))
        or (Range(-1, 1) if cont is not None else None),
        absolute_position=as_range(attr(absolute, "Position")),
        absolute_speed=as_range(attr(absolute, "Speed")),
        relative_distance=as_range(attr(rel, "Distance")),
        relative_speed=as_range(attr(rel, "Speed")),
    )
    if absolute is not None and setup.absolute_position is None:
        setup.absolute = Feature.missing("the camera does not say its focus position range")
    if rel is not None and setup.relative_distance is None:
        setup.relative = Feature.missing("the camera does not say its focus step range")

    try:
        options = await call(service, "GetOptions", req)
        modes = {str(m).upper() for m in attr(options, "Focus", "AutoFocusModes") or []}
    except ControlError as err:
        modes = set()
        log.info("focus mode options unavailable: %s", err)
    if {"AUTO", "MANUAL"} <= modes:
        try:
            settings = await call(service, "GetImagingSettings", req)
            mode = attr(settings, "Focus", "AutoFocusMode")
            setup.auto_mode = str(mode).upper() if mode is not None else None
            setup.auto = Feature.ok()
            setup.one_push = Feature.ok()
        except ControlError as err:
            reason = f"cannot read the focus mode ({_why(err, 'Imaging')})"
            setup.auto = setup.one_push = Feature.missing(reason)
    else:
        only = "/".join(sorted(modes)) or "none"
        reason = f"the camera does not offer both AUTO and MANUAL focus modes (offers: {only})"
        setup.auto = setup.one_push = Feature.missing(reason)

    try:
        status = await call(service, "GetStatus", req)
        if as_float(attr(status, "FocusStatus20", "Position")) is not None:
            setup.status = Feature.ok()
        else:
            setup.status = Feature.missing("the camera does not report its focus position")
    except ControlError as err:
        setup.status = Feature.missing(
            f"the camera does not report focus status ({_why(err, 'Imaging')})"
        )
    return setup


def _pick_space(spaces: Iterable[Any], default_uri: Any, generic_suffix: str) -> Any:
    """The space the camera uses when a request names none (its configured default)."""
    spaces = list(spaces or [])
    if not spaces:
        return None
    for want in (str(default_uri) if default_uri else None, generic_suffix):
        for space in spaces:
            uri = str(attr(space, "URI") or "")
            if want and (uri == want or uri.endswith(want)):
                return space
    return spaces[0]


async def probe_ptz(call: Call, service: Any, profiles: list[Any]) -> PtzSetup:
    """Ask the PTZ service which zoom/pan/tilt moves and presets the camera offers."""
    profile = next((p for p in profiles if attr(p, "PTZConfiguration") is not None), None)
    if profile is None:
        return PtzSetup.missing("no media profile of the camera has a PTZ configuration")
    config = attr(profile, "PTZConfiguration")
    try:
        nodes = await call(service, "GetNodes", None) or []
    except ControlError as err:
        return PtzSetup.missing(f"cannot read the PTZ node ({_why(err, 'PTZ')})")
    node_token = attr(config, "NodeToken")
    node = next((n for n in nodes if attr(n, "token") == node_token), nodes[0] if nodes else None)
    if node is None:
        return PtzSetup.missing("the camera lists no PTZ node")
    spaces = attr(node, "SupportedPTZSpaces")
    zoom_v = _pick_space(
        attr(spaces, "ContinuousZoomVelocitySpace"),
        attr(config, "DefaultContinuousZoomVelocitySpace"),
        "VelocityGenericSpace",
    )
    zoom_p = _pick_space(
        attr(spaces, "AbsoluteZoomPositionSpace"),
        attr(config, "DefaultAbsoluteZoomPositionSpace"),
        "PositionGenericSpace",
    )
    pt_v = _pick_space(
        attr(spaces, "ContinuousPanTiltVelocitySpace"),
        attr(config, "DefaultContinuousPanTiltVelocitySpace"),
        "VelocityGenericSpace",
    )
    fov = next(
        (
            s
            for s in attr(spaces, "RelativePanTiltTranslationSpace") or []
            if str(attr(s, "URI") or "").strip() == FOV_SPACE
        ),
        None,
    )
    setup = PtzSetup(
        zoom_continuous=Feature.when(
            zoom_v is not None, "the camera has no motorised zoom (no continuous zoom space)"
        ),
        zoom_absolute=Feature.when(
            zoom_p is not None, "the camera offers no absolute zoom position"
        ),
        zoom_status=Feature.missing("not probed"),
        pan_tilt_continuous=Feature.when(
            pt_v is not None, "the camera cannot pan or tilt (no pan/tilt velocity space)"
        ),
        pan_tilt_centre=Feature.when(
            fov is not None, "the camera offers no field-of-view relative moves"
        ),
        presets=Feature.missing("not probed"),
        profile_token=str(attr(profile, "token")),
        zoom_velocity=as_range(attr(zoom_v, "XRange")) if zoom_v is not None else None,
        zoom_position=as_range(attr(zoom_p, "XRange")) if zoom_p is not None else None,
        pan_velocity=as_range(attr(pt_v, "XRange")) if pt_v is not None else None,
        tilt_velocity=as_range(attr(pt_v, "YRange")) if pt_v is not None else None,
        fov_space=FOV_SPACE if fov is not None else None,
        # The spec's range is [-1, 1]; some firmware says [-100, 100]: its own word counts.
        fov_pan=(as_range(attr(fov, "XRange")) or Range(-1.0, 1.0)) if fov is not None else None,
        fov_tilt=(as_range(attr(fov, "YRange")) or Range(-1.0, 1.0)) if fov is not None else None,
        pan_tilt=pt_v is not None
        or fov is not None
        or bool(attr(spaces, "AbsolutePanTiltPositionSpace")),
        zoom=zoom_v is not None or zoom_p is not None,
    )
    if zoom_v is not None and setup.zoom_velocity is None:
        setup.zoom_velocity = Range(-1.0, 1.0)
    if pt_v is not None and (setup.pan_velocity is None or setup.tilt_velocity is None):
        setup.pan_velocity = setup.tilt_velocity = Range(-1.0, 1.0)
    if zoom_p is not None and setup.zoom_position is None:
        setup.zoom_absolute = Feature.missing("the camera does not say its zoom position range")

    max_presets = attr(node, "MaximumNumberOfPresets")
    try:
        has_presets = int(max_presets) > 0
    except (TypeError, ValueError):
        has_presets = False
    setup.presets = Feature.when(has_presets, "the camera stores no PTZ presets")

    config_token = attr(config, "token")
    if config_token is not None:
        try:
            options = await call(
                service, "GetConfigurationOptions", {"ConfigurationToken": config_token}
            )
            lo = as_seconds(attr(options, "PTZTimeout", "Min"))
            hi = as_seconds(attr(options, "PTZTimeout", "Max"))
            if lo is not None and hi is not None and 0 < lo <= hi:
                setup.timeout_range = Range(lo, hi)
        except ControlError as err:
            # Without the range, moves carry the configured timeout unclamped.
            log.info("PTZ timeout range unavailable: %s", err)

    try:
        status = await call(service, "GetStatus", {"ProfileToken": setup.profile_token})
        if as_float(attr(status, "Position", "Zoom", "x")) is not None:
            setup.zoom_status = Feature.ok()
        elif setup.zoom:
            setup.zoom_status = Feature.missing("the camera does not report its zoom position")
        else:
            setup.zoom_status = Feature.missing("the camera has no zoom")
    except ControlError as err:
        setup.zoom_status = Feature.missing(
            f"the camera does not report PTZ status ({_why(err, 'PTZ')})"
        )
    return setup


def stream_roles(profiles: list[Any]) -> list[tuple[Any, StreamRole]]:
    """Video profiles ordered by resolution, largest first, with main/sub/other roles."""
    video = [p for p in profiles if attr(p, "VideoEncoderConfiguration") is not None]

    def pixels(p: Any) -> int:
        res = attr(p, "VideoEncoderConfiguration", "Resolution")
        try:
            return int(attr(res, "Width") or 0) * int(attr(res, "Height") or 0)
        except (TypeError, ValueError):
            return 0

    ordered = sorted(video, key=pixels, reverse=True)  # stable: camera order breaks ties
    roles = [StreamRole.MAIN, StreamRole.SUB]
    return [(p, roles[i] if i < len(roles) else StreamRole.OTHER) for i, p in enumerate(ordered)]

"""ONVIF camera control over onvif-zeep-async: focus (Imaging), zoom/pan/tilt and presets (PTZ).

Every SOAP call carries WS-Security UsernameToken digest credentials, is signed with the
camera's clock (the library measures the offset with GetSystemDateAndTime first, so a camera
with a wrong clock still accepts the login) and is bounded by ``call_timeout_s``.

Continuous PTZ moves always carry an ONVIF ``Timeout`` (clamped to the camera's advertised
range), so a camera stops by itself when its controller goes away. ONVIF's Imaging ``Move``
has no such field: a continuous *focus* move lasts until Stop, which is why the hold logic in
:mod:`camwall.control.hold` also stops held moves on its own watchdogs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from camwall.control.base import CameraControl
from camwall.control.model import (
    Axis,
    Capabilities,
    ControlStatus,
    DeviceInfo,
    MoveState,
    OnvifSettings,
    Preset,
    StopMethod,
    StreamProfile,
    Velocity,
)
from camwall.control.onvif.errors import load_onvif, map_error, reply_errors
from camwall.control.onvif.focus import OnvifFocus
from camwall.control.onvif.probe import (
    IMAGING_NS,
    MEDIA_NS,
    PTZ_NS,
    FocusSetup,
    PtzSetup,
    as_float,
    attr,
    probe_focus,
    probe_ptz,
    stream_roles,
)
from camwall.control.onvif.ptz import OnvifPtz
from camwall.errors import ControlConnectionError, ControlError, ControlUnsupportedError

log = logging.getLogger(__name__)

EVENTS_NS = "http://www.onvif.org/ver10/events/wsdl"
_PTZ_AXES = frozenset({Axis.PAN, Axis.TILT, Axis.ZOOM})


def _count(value: Any) -> int | None:
    """A positive whole number from a camera's answer; None for missing or garbled values
    (zeep leaves a number it cannot translate as the camera's text)."""
    number = as_float(value)
    if number is None or not math.isfinite(number) or number <= 0:
        return None
    return int(number)


@functools.cache
def _camera_class(onvif: ModuleType) -> Any:
    """``onvif.ONVIFCamera`` whose service creation, once begun, finishes despite a cancel.

    The library opens a service's HTTP session, then sets the service up (loading its WSDL
    in a worker thread, the first time), and only then files it in ``services``, which is
    what its ``close()`` closes. A login cancelled in between (the wall closing while a
    camera that is not there is being tried) would drop that session unclosed: aiohttp's
    "Unclosed client session". Waiting for the creation is short (local work, no network),
    and afterwards ``close()`` finds the session.
    """

    base: Any = onvif.ONVIFCamera

    class Camera(base):  # type: ignore[misc]
        async def create_onvif_service(self, *args: Any, **kwargs: Any) -> Any:
            creating = asyncio.ensure_future(super().create_onvif_service(*args, **kwargs))
            creating.add_done_callback(_seen)
            try:
                return await asyncio.shield(creating)
            except asyncio.CancelledError:
                await asyncio.wait([creating])
                raise

    return Camera


def _seen(task: asyncio.Future[Any]) -> None:
    """Mark a creation's outcome as seen (its caller may have been cancelled meanwhile)."""
    if not task.cancelled():
        task.exception()


@contextlib.contextmanager
def _keep_proxy_env() -> Iterator[None]:
    """Undo ONVIFCamera's removal of http(s)_proxy from the whole process's environment."""
    saved = {k: os.environ[k] for k in ("http_proxy", "https_proxy") if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


class OnvifCameraControl(CameraControl):
    """One ONVIF camera; create, :meth:`connect`, use, :meth:`close` on one event loop."""

    def __init__(self, settings: OnvifSettings) -> None:
        self._s = settings
        self._cam: Any = None
        self._errors: tuple[type[BaseException], ...] = ()
        self._caps = Capabilities.none("not connected yet")
        self._profiles: list[Any] = []
        self._video_source: str | None = None
        self._focus: OnvifFocus | None = None
        self._ptz: OnvifPtz | None = None
        self._focus_setup = FocusSetup.missing("not connected yet")
        self._ptz_setup = PtzSetup.missing("not connected yet")

    # connection ------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """host:port of the camera."""
        return self._s.label

    @property
    def settings(self) -> OnvifSettings:
        """The connection settings."""
        return self._s

    @property
    def capabilities(self) -> Capabilities:
        """What the camera offers (all unavailable until connected)."""
        return self._caps

    def _error(self, err: BaseException, what: str, timeout_s: float | None = None) -> ControlError:
        return map_error(
            err,
            where=self.label,
            what=what,
            timeout_s=timeout_s or self._s.call_timeout_s,
            user=self._s.user,
            secret=self._s.password,
        )

    async def _call(
        self, service: Any, operation: str, params: dict[str, Any] | None = None
    ) -> Any:
        """One SOAP operation, bounded by the call timeout, errors mapped to ControlError."""
        return await self.call(service, operation, params)

    async def call(
        self,
        service: Any,
        operation: str,
        params: dict[str, Any] | None = None,
        *,
        timeout_s: float | None = None,
    ) -> Any:
        """One SOAP operation of ``service`` (see :meth:`service`), errors mapped.

        Bounded by ``timeout_s`` (default: the call timeout; a long poll passes more).
        """
        limit = timeout_s or self._s.call_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await getattr(service, operation)(params)
        except self._errors as err:
            raise self._error(err, operation, limit) from err

    def has_service(self, namespace: str) -> bool:
        """True if the connected camera lists a service of ``namespace`` (GetServices)."""
        return namespace in self._connected().xaddrs

    async def service(self, kind: str) -> Any:
        """The camera's ``kind`` service (devicemgmt, media, events, …), errors mapped."""
        return await self._service(kind)

    async def pullpoint(self, address: str) -> tuple[Any, Any]:
        """The subscription manager and pull-point services of a new subscription's address.

        As onvif-zeep-async's own PullPointManager does: the address becomes the
        PullPointSubscription XAddr that both services are bound to.
        """
        from onvif.util import normalize_url

        cam = self._connected()
        cam.xaddrs[f"{EVENTS_NS}/PullPointSubscription"] = cam.rewrite_url(normalize_url(address))
        limit = self._s.connect_timeout_s
        try:
            async with asyncio.timeout(limit):
                manager = await cam.create_subscription_service("PullPointSubscription")
                puller = await cam.create_pullpoint_service()
        except self._errors as err:
            raise self._error(err, "opening the pull point", limit) from err
        return manager, puller

    async def _service(self, kind: str) -> Any:
        """The camera's ``kind`` service (devicemgmt, media, imaging, ptz), errors mapped.

        The first creation in a process parses the service's WSDL, which can take seconds:
        it is bounded by the connect timeout, not the call timeout.
        """
        cam = self._connected()
        try:
            async with asyncio.timeout(self._s.connect_timeout_s):
                return await getattr(cam, f"create_{kind}_service")()
        except self._errors as err:
            raise self._error(
                err, f"opening its {kind} service", self._s.connect_timeout_s
            ) from err

    async def connect(self, *, probe: bool = True) -> Capabilities:
        """Log in, find the services and media profiles, then (``probe``) focus/PTZ features."""
        await self.close()
        onvif = load_onvif()
        self._errors = reply_errors(onvif)
        failures: tuple[type[BaseException], ...] = (*self._errors, ControlError)
        timeout = self._s.connect_timeout_s
        try:
            async with asyncio.timeout(timeout):
                with _keep_proxy_env():
                    self._cam = _camera_class(onvif)(
                        self._s.host,
                        self._s.port,
                        # Empty strings, not None: the library's WS-Security header
                        # cannot be built from None (cameras with auth off ignore it).
                        self._s.user,
                        self._s.password,
                        no_cache=True,  # WSDLs are local; no sqlite cache in the home directory
                        adjust_time=True,  # sign logins with the camera's clock
                    )
                await self._cam.update_xaddrs()
                if MEDIA_NS not in self._cam.xaddrs:
                    raise ControlUnsupportedError(
                        f"{self.label} has no ONVIF Media service; camwall cannot find its "
                        "video source or streams"
                    )
                media = await self._service("media")
                self._profiles = list(await self._call(media, "GetProfiles") or [])
                ordered = [p for p, _ in stream_roles(self._profiles)] or self._profiles
                self._video_source = next(
                    (
                        str(s)
                        for p in ordered
                        if (s := attr(p, "VideoSourceConfiguration", "SourceToken"))
                    ),
                    None,
                )
                if probe:
                    # Sequential, not gathered: were one probe to fail, a gathered sibling
                    # would still be creating its service (and HTTP session) while close()
                    # runs, and that session would leak.
                    self._focus_setup = await self._probe_focus()
                    self._ptz_setup = await self._probe_ptz(ordered)
        except failures as err:
            await self.close()
            raise self._error(err, "login and service discovery", timeout) from err
        except BaseException:
            # Cancelled (the control service is stopping mid-login): the HTTP sessions the
            # library opened so far must be closed here, or they leak.
            await self.close()
            raise
        if not probe:
            log.debug("%s: logged in (controls not probed)", self.label)
            return self._caps
        self._caps = self._capabilities()
        log.info(
            "%s: connected; unavailable: %s",
            self.label,
            ", ".join(self._caps.unavailable()) or "nothing",
        )
        return self._caps

    async def _probe_focus(self) -> FocusSetup:
        source = self._video_source
        if source is None:
            return FocusSetup.missing("no media profile of the camera names a video source")
        if IMAGING_NS not in self._cam.xaddrs:
            return FocusSetup.missing("the camera has no ONVIF Imaging service")
        service = await self._service("imaging")
        setup = await probe_focus(self._call, service, source)
        if setup.continuous or setup.absolute or setup.relative or setup.auto:
            self._focus = OnvifFocus(self.label, self._call, service, source, setup)
        return setup

    async def _probe_ptz(self, profiles: list[Any]) -> PtzSetup:
        if PTZ_NS not in self._cam.xaddrs:
            return PtzSetup.missing("the camera has no ONVIF PTZ service")
        service = await self._service("ptz")
        setup = await probe_ptz(self._call, service, profiles)
        if setup.profile_token is not None:
            self._ptz = OnvifPtz(self.label, self._call, service, setup, self._s.move_timeout_s)
        return setup

    def _capabilities(self) -> Capabilities:
        f, p = self._focus_setup, self._ptz_setup
        return Capabilities(
            focus_continuous=f.continuous,
            focus_absolute=f.absolute,
            focus_relative=f.relative,
            auto_focus=f.auto,
            one_push_focus=f.one_push,
            focus_status=f.status,
            zoom_continuous=p.zoom_continuous,
            zoom_absolute=p.zoom_absolute,
            zoom_status=p.zoom_status,
            pan_tilt_continuous=p.pan_tilt_continuous,
            pan_tilt_centre=p.pan_tilt_centre,
            presets=p.presets,
            focus_position_range=f.absolute_position if f.absolute else None,
            focus_distance_range=f.relative_distance if f.relative else None,
            zoom_position_range=p.zoom_position if p.zoom_absolute else None,
        )

    async def close(self) -> None:
        """Close the HTTP sessions; capabilities become unavailable."""
        cam, self._cam = self._cam, None
        self._focus = None
        self._ptz = None
        if cam is None:
            return
        self._caps = Capabilities.none("disconnected")
        # A cancel arriving mid-close (the service stopping while a failed follow closes)
        # must not leave the remaining sessions open: the close runs to its end regardless.
        closing = asyncio.ensure_future(self._close_sessions(cam))
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            await asyncio.wait([closing])
            raise

    async def _close_sessions(self, cam: Any) -> None:
        # One by one, not the library's close(): one failing close must not skip the rest
        # (each left open is an aiohttp "Unclosed client session").
        closers = [
            getattr(cam, "_snapshot_client", None),
            getattr(cam, "_snapshot_connector", None),
        ]
        closers += list(getattr(cam, "services", {}).values())
        errors: tuple[type[BaseException], ...] = (*self._errors, OSError, RuntimeError)
        for closer in closers:
            if closer is None:
                continue
            try:
                await closer.close()
            except errors as err:
                log.debug("%s: closing an ONVIF session: %s", self.label, err)

    def _connected(self) -> Any:
        if self._cam is None:
            raise ControlConnectionError(f"{self.label}: not connected")
        return self._cam

    # information -----------------------------------------------------------------------
    async def device_info(self) -> DeviceInfo:
        """GetDeviceInformation."""
        device = await self._service("devicemgmt")
        info = await self._call(device, "GetDeviceInformation")

        def text(name: str) -> str:
            return str(attr(info, name) or "")

        return DeviceInfo(
            text("Manufacturer"),
            text("Model"),
            text("FirmwareVersion"),
            text("SerialNumber"),
            text("HardwareId"),
        )

    async def stream_profiles(self) -> list[StreamProfile]:
        """Every video profile with its RTSP URI, main (largest) first."""
        media = await self._service("media")
        out = []
        for profile, role in stream_roles(self._profiles):
            token = str(attr(profile, "token"))
            answer = await self._call(
                media,
                "GetStreamUri",
                {
                    "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                    "ProfileToken": token,
                },
            )
            uri = str(attr(answer, "Uri") or "").strip()
            if not uri:
                raise ControlError(
                    f"{self.label} gave no stream URL for profile {token!r} (its GetStreamUri "
                    "answer is incomplete); a firmware update may fix it"
                )
            enc = attr(profile, "VideoEncoderConfiguration")
            kbps = _count(attr(enc, "RateControl", "BitrateLimit"))
            out.append(
                StreamProfile(
                    token=token,
                    name=str(attr(profile, "Name") or token),
                    role=role,
                    uri=uri,
                    encoding=str(attr(enc, "Encoding")) if attr(enc, "Encoding") else None,
                    width=_count(attr(enc, "Resolution", "Width")),
                    height=_count(attr(enc, "Resolution", "Height")),
                    fps=as_float(attr(enc, "RateControl", "FrameRateLimit")),
                    bitrate_kbps=kbps,
                )
            )
        return out

    # moves -----------------------------------------------------------------------------
    def _focus_part(self) -> OnvifFocus:
        if self._focus is None:
            raise ControlUnsupportedError(f"{self.label}: {self._focus_setup.continuous.reason}")
        return self._focus

    def _ptz_part(self) -> OnvifPtz:
        if self._ptz is None:
            raise ControlUnsupportedError(f"{self.label}: {self._ptz_setup.zoom_continuous.reason}")
        return self._ptz

    async def continuous_move(self, velocity: Velocity, timeout_s: float) -> None:
        """PTZ ContinuousMove with an ONVIF Timeout and/or an Imaging continuous focus Move."""
        if velocity.pan or velocity.tilt:
            self.require("pan_tilt_continuous")
        if velocity.zoom:
            self.require("zoom_continuous")
        if velocity.focus:
            self.require("focus_continuous")
        try:
            if velocity.uses_ptz:
                ptz = self._ptz_part()
                await ptz.continuous(ptz.velocity(velocity), timeout_s)
            if velocity.focus:
                await self._focus_part().continuous(velocity.focus)
        except ValueError as err:  # a direction the camera's speed range lacks
            raise ControlUnsupportedError(f"{self.label}: {err}") from err

    async def stop(self, axes: frozenset[Axis]) -> StopMethod:
        """Stop the axes: Stop first, a zero-velocity move where Stop is refused."""
        methods: list[StopMethod] = []
        errors: list[ControlError] = []
        if axes & _PTZ_AXES and self._ptz is not None:
            try:
                methods.append(await self._ptz.stop(axes))
            except ControlError as err:
                errors.append(err)
        if Axis.FOCUS in axes and self._focus is not None:
            try:
                methods.append(await self._focus.stop())
            except ControlError as err:
                errors.append(err)
        if errors:
            raise type(errors[0])("; ".join(str(e) for e in errors))
        if StopMethod.ZERO_VELOCITY in methods:
            return StopMethod.ZERO_VELOCITY
        return StopMethod.STOP if StopMethod.STOP in methods else StopMethod.NOT_NEEDED

    # focus -----------------------------------------------------------------------------
    async def focus_absolute(self, position: float, speed: float | None = None) -> None:
        """Imaging Move Absolute."""
        self.require("focus_absolute")
        await self._focus_part().absolute(position, speed)

    async def focus_relative(self, distance: float, speed: float | None = None) -> None:
        """Imaging Move Relative."""
        self.require("focus_relative")
        await self._focus_part().relative(distance, speed)

    async def get_auto_focus(self) -> bool:
        """GetImagingSettings → Focus.AutoFocusMode."""
        self.require("auto_focus")
        return await self._focus_part().get_auto()

    async def set_auto_focus(self, enabled: bool) -> None:
        """SetImagingSettings Focus.AutoFocusMode, then read back that the camera took it."""
        self.require("auto_focus")
        focus = self._focus_part()
        await focus.set_mode("AUTO" if enabled else "MANUAL")
        if (await focus.get_auto()) != enabled:
            raise ControlError(
                f"{self.label} accepted auto-focus {'on' if enabled else 'off'} but still "
                f"reports {focus.setup.auto_mode}; the camera may lock its focus mode"
            )

    async def one_push_focus(self) -> None:
        """Auto-focus once (AUTO until the lens settles), then keep that focus (MANUAL)."""
        self.require("one_push_focus")
        await self._focus_part().one_push()

    # zoom and presets ------------------------------------------------------------------
    async def zoom_absolute(self, position: float, speed: float | None = None) -> None:
        """PTZ AbsoluteMove of the zoom axis."""
        self.require("zoom_absolute")
        await self._ptz_part().zoom_absolute(position, speed)

    async def centre_on(self, x: float, y: float, speed: float | None = None) -> None:
        """PTZ RelativeMove in the field-of-view space: picture point (x, y) to the centre."""
        self.require("pan_tilt_centre")
        await self._ptz_part().centre_on(x, y, speed)

    async def presets(self) -> list[Preset]:
        """GetPresets."""
        self.require("presets")
        return await self._ptz_part().presets()

    async def goto_preset(self, token: str, speed: float | None = None) -> None:
        """GotoPreset."""
        self.require("presets")
        await self._ptz_part().goto_preset(token, speed)

    async def set_preset(self, name: str, token: str | None = None) -> str:
        """SetPreset; the camera's token for it."""
        self.require("presets")
        return await self._ptz_part().set_preset(name, token)

    # status ----------------------------------------------------------------------------
    async def status(self) -> ControlStatus:
        """Imaging and PTZ GetStatus together; partial answers name what failed."""
        self._connected()
        jobs: dict[str, Any] = {}
        if self._caps.focus_status and self._focus is not None:
            jobs["focus"] = self._focus.status()
        if self._ptz is not None and (self._caps.zoom_status or self._ptz.setup.pan_tilt):
            jobs["ptz"] = self._ptz.status()
        if not jobs:
            raise ControlUnsupportedError(
                f"{self.label} reports no focus, zoom or pan/tilt status: "
                f"{self._caps.focus_status.reason}; {self._caps.zoom_status.reason}"
            )
        results = await asyncio.gather(*jobs.values(), return_exceptions=True)
        answers: dict[str, Any] = {}
        failures: list[ControlError] = []
        for name, result in zip(jobs, results, strict=True):
            if isinstance(result, ControlError):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                answers[name] = result
        if not answers:
            raise failures[0]
        focus, ptz = answers.get("focus"), answers.get("ptz")
        return ControlStatus(
            focus_position=as_float(attr(focus, "FocusStatus20", "Position")),
            focus_move=MoveState.parse(attr(focus, "FocusStatus20", "MoveStatus")),
            zoom_position=as_float(attr(ptz, "Position", "Zoom", "x")),
            zoom_move=MoveState.parse(attr(ptz, "MoveStatus", "Zoom")),
            pan=as_float(attr(ptz, "Position", "PanTilt", "x")),
            tilt=as_float(attr(ptz, "Position", "PanTilt", "y")),
            pan_tilt_move=MoveState.parse(attr(ptz, "MoveStatus", "PanTilt")),
            error="; ".join(str(f) for f in failures) or None,
        )

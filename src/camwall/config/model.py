"""The validated configuration: frozen dataclasses, built by :mod:`camwall.config.parse`.

The file is checked by the pydantic models of :mod:`camwall.config.schema`; these plain
frozen dataclasses are what the rest of camwall holds (cheap, hashable, positional).

Paths are kept as written in the file (so a saved config round-trips exactly); the
``resolved_*`` methods turn them into absolute paths against the config file's folder.
Passwords never live in these objects: a camera names an environment variable
(``password_env``) and :meth:`Camera.resolved_url` reads it at the moment of use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import platformdirs

from camwall.config.urls import file_path, host_of, url_kind, userinfo, with_credentials
from camwall.errors import ConfigError
from camwall.mqtt.settings import MqttSettings

if TYPE_CHECKING:
    # Imported where used: `camwall --help` must not load OpenCV or the ONVIF stack.
    from camwall.control.model import OnvifSettings
    from camwall.detect.zones import Zone
from camwall.redact import mask_url

SCHEMA_VERSION = 1
GRIDS = (1, 4, 9, 16)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRANSPORTS = ("tcp", "udp")
#: What can start a recording on event: the kinds of a camera's own ONVIF events
#: (camwall.control.onvif.events), and "detection" (camwall's detector saw an object appear).
EVENT_KINDS = ("motion", "tamper", "input", "line", "field", "other", "detection")
#: When detection runs on a camera: always, or only while the camera itself reports motion.
DETECT_WHEN = ("always", "camera_motion")
#: Which stream feeds detection: "auto" is the substream when the camera has one, else the
#: main stream — a fixed choice, whatever stream the wall shows.
DETECT_STREAMS = ("auto", "main", "substream")
MAX_PRE_ROLL_S = 60.0
MAX_POST_ROLL_S = 3600.0
#: ``max_total_gb`` counts in GiB (2**30 bytes), the unit ``df -h`` shows as "G".
GB = 1 << 30

Transport = Literal["tcp", "udp"]
DetectStream = Literal["auto", "main", "substream"]
Grid = int | Literal["auto"]
Point = tuple[float, float]
Polygon = tuple[Point, ...]


def default_config_path() -> Path:
    """Where camwall looks for its config when none is given (``…/camwall/camwall.toml``)."""
    return platformdirs.user_config_path("camwall") / "camwall.toml"


def default_recording_dir() -> Path:
    """Where recordings go when the config names no ``[recording] dir``."""
    return platformdirs.user_data_path("camwall") / "recordings"


def _absolute(path: Path, base_dir: Path | None) -> Path:
    path = path.expanduser()
    if path.is_absolute():
        return path
    return (base_dir or Path.cwd()) / path


@dataclass(frozen=True)
class WallConfig:
    """``[wall]``: how the camera wall lays out its tiles."""

    #: Tiles in the grid: 1, 4, 9, 16, or "auto" (the smallest that fits every camera).
    grid: Grid = "auto"
    #: The decode budget: decode only keyframes (or nothing) of cameras the viewer is not
    #: looking at when the CPU cannot decode them all (camwall.runtime.decode). False: every
    #: camera is always decoded in full.
    decode_budget: bool = True
    #: Remote camwall nodes whose cameras the wall shows (found on the ``[mqtt]`` broker by
    #: their retained availability): node names, or "*" for every node under the prefix.
    #: Empty: none (the wall shows only its own cameras).
    nodes: tuple[str, ...] | Literal["*"] = ()

    def wants_node(self, node: str) -> bool:
        """True if the wall shows node ``node``'s cameras."""
        return self.nodes == "*" or node in self.nodes

    def tiles(self, cameras: int) -> int:
        """The number of tiles for ``cameras`` cameras."""
        if self.grid != "auto":
            return self.grid
        return next((g for g in GRIDS if g >= cameras), GRIDS[-1])


@dataclass(frozen=True)
class RecordingConfig:
    """``[recording]``: where and how continuous recordings are kept."""

    #: None: the platform's data folder (see :func:`default_recording_dir`).
    dir: Path | None = None
    segment_seconds: float = 60.0
    #: Delete segments older than this; 0 keeps them forever.
    max_age_days: float = 7.0
    #: Keep all segments together under this many GiB, oldest deleted first; 0: no limit.
    max_total_gb: float = 0.0

    @property
    def max_age_s(self) -> float | None:
        """Maximum segment age in seconds, or None for no limit."""
        return self.max_age_days * 86400.0 if self.max_age_days > 0 else None

    @property
    def max_total_bytes(self) -> int | None:
        """Maximum total size in bytes, or None for no limit."""
        total = self.max_total_gb * GB
        # A limit beyond any disk (or built in code unchecked) is no limit, not an overflow.
        return int(total) if 0 < total < 2**63 else None


@dataclass(frozen=True)
class DetectionConfig:
    """``[detection]``: the object detector shared by every camera that has ``detect = true``."""

    #: An ONNX model file; None: the built-in detector.
    model: Path | None = None
    #: A labels file (one label per line) for a custom model; None: COCO-80.
    labels: Path | None = None
    #: Detection runs per second per camera, unless the camera sets ``detect_fps``.
    fps: float = 5.0
    #: Minimum score for labels without their own entry in ``thresholds``.
    threshold: float = 0.5
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def threshold_for(self, label: str) -> float:
        """The minimum score a detection of ``label`` needs."""
        return self.thresholds.get(label, self.threshold)


@dataclass(frozen=True, repr=False)
class OnvifConfig:
    """``[camera.onvif]``: where to reach the camera's ONVIF service (focus, zoom, PTZ)."""

    #: None: the host of the camera's URL.
    host: str | None = None
    port: int = 80
    #: None: the camera's user.
    user: str | None = None
    #: None: the camera's ``password_env``.
    password_env: str | None = None

    def __repr__(self) -> str:
        return (
            f"OnvifConfig(host={self.host!r}, port={self.port}, user={self.user!r}, "
            f"password_env={self.password_env!r})"
        )


@dataclass(frozen=True, repr=False)
class Camera:
    """One ``[[camera]]`` entry."""

    name: str
    #: As written: may carry a user name (and, discouraged, a password); never printed unmasked.
    url: str
    substream_url: str | None = None
    transport: Transport = "tcp"
    #: User name for the camera, when the URL does not carry one.
    user: str | None = None
    #: Name of the environment variable holding the camera's password.
    password_env: str | None = None
    onvif: OnvifConfig | None = None
    detect: bool = False
    #: None: ``[detection] fps``.
    detect_fps: float | None = None
    record: bool = False
    #: Record only around these kinds of the camera's own events (``record`` = false):
    #: ``pre_roll_s`` before the event (kept in memory) until ``post_roll_s`` after the last.
    record_on_events: tuple[str, ...] = ()
    pre_roll_s: float = 5.0
    post_roll_s: float = 10.0
    #: "camera_motion": run detection only while the camera reports motion.
    detect_when: str = "always"
    #: Areas to ignore, as polygons of (x, y) points in frame pixels.
    masks: tuple[Polygon, ...] = ()
    #: Seconds to wait for the first decoded frame after connecting; None: adaptive.
    first_frame_timeout_s: float | None = None
    #: Seconds without a frame before the stream counts as lost; None: adaptive.
    read_timeout_s: float | None = None
    #: The size detection runs at (camwall.detect.geometry.detect_size): None for both is
    #: 640 wide keeping the aspect; independent of how the wall shows the camera.
    detect_width: int | None = None
    detect_height: int | None = None
    #: Which stream feeds detection (see DETECT_STREAMS), independent of the wall.
    detect_stream: DetectStream = "auto"
    #: Named areas with rules; tracks entering and leaving them are events.
    zones: tuple[Zone, ...] = ()
    #: The config file's folder, for relative file paths (not part of the config's value).
    base_dir: Path | None = field(default=None, compare=False)

    @property
    def display_url(self) -> str:
        """The URL with any credentials masked, for logs and the UI."""
        return mask_url(self.url)

    def password(self, env: Mapping[str, str] | None = None) -> str | None:
        """The password from ``password_env`` (or the URL), or None; raise if the variable is unset."""
        if self.password_env is None:
            return userinfo(self.url)[1] if url_kind_or_none(self.url) == "network" else None
        environ = os.environ if env is None else env
        try:
            return environ[self.password_env]
        except KeyError:
            raise ConfigError(
                f"environment variable {self.password_env} (password_env of camera "
                f"{self.name!r}) is not set",
                key="password_env",
            ) from None

    def user_name(self) -> str | None:
        """The user name: the ``user`` key, else the one written in the URL."""
        if self.user is not None:
            return self.user
        return userinfo(self.url)[0] if url_kind_or_none(self.url) == "network" else None

    def resolved_url(self, env: Mapping[str, str] | None = None) -> str:
        """The URL to open, with the password from the environment put into its userinfo.

        Secret: never log or show the result; show :attr:`display_url` instead.
        """
        return self._resolve(self.url, env)

    def resolved_substream_url(self, env: Mapping[str, str] | None = None) -> str | None:
        """Like :meth:`resolved_url` for the substream, or None if the camera has none."""
        return None if self.substream_url is None else self._resolve(self.substream_url, env)

    def _resolve(self, url: str, env: Mapping[str, str] | None) -> str:
        kind = url_kind_or_none(url)
        if kind == "file":
            return str(_absolute(Path(file_path(url)), self.base_dir))
        if kind != "network":
            return url
        user = self.user_name()
        password = self.password(env) if self.password_env is not None else userinfo(url)[1]
        return with_credentials(url, user, password)

    def onvif_settings(self, env: Mapping[str, str] | None = None) -> OnvifSettings | None:
        """How to reach the camera's ONVIF service (defaults filled in, password resolved):
        the one credentials type of the control layer. None without ``[camera.onvif]``."""
        if self.onvif is None:
            return None
        host = self.onvif.host or host_of(self.url)
        if host is None:
            raise ConfigError(
                f"camera {self.name!r} has no network URL; set its onvif host", key="onvif.host"
            )
        if self.onvif.password_env is not None:
            environ = os.environ if env is None else env
            if self.onvif.password_env not in environ:
                raise ConfigError(
                    f"environment variable {self.onvif.password_env} (onvif password_env of "
                    f"camera {self.name!r}) is not set",
                    key="onvif.password_env",
                )
            password: str | None = environ[self.onvif.password_env]
        else:
            password = self.password(env)
        from camwall.control.model import OnvifSettings

        user = self.onvif.user or self.user_name() or ""
        try:
            return OnvifSettings(host, self.onvif.port, user, password or "")
        except ValueError as exc:
            raise ConfigError(f"camera {self.name!r}: {exc}", key="onvif") from None

    def __repr__(self) -> str:
        sub = None if self.substream_url is None else mask_url(self.substream_url)
        return (
            f"Camera(name={self.name!r}, url={self.display_url!r}, substream_url={sub!r}, "
            f"transport={self.transport!r}, user={self.user!r}, "
            f"password_env={self.password_env!r}, onvif={self.onvif!r}, detect={self.detect}, "
            f"detect_fps={self.detect_fps}, record={self.record}, masks={len(self.masks)}, "
            f"first_frame_timeout_s={self.first_frame_timeout_s}, "
            f"read_timeout_s={self.read_timeout_s}, detect_width={self.detect_width}, "
            f"detect_height={self.detect_height}, detect_stream={self.detect_stream!r}, "
            f"zones={[z.name for z in self.zones]})"
        )

    __str__ = __repr__


def url_kind_or_none(url: str) -> str | None:
    """The kind of ``url`` (see :func:`camwall.config.urls.url_kind`), None if invalid."""
    try:
        return url_kind(url)
    except ValueError:
        return None


@dataclass(frozen=True)
class Config:
    """A whole camwall config file."""

    version: int = SCHEMA_VERSION
    log_level: str = "INFO"
    wall: WallConfig = field(default_factory=WallConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    cameras: tuple[Camera, ...] = ()
    #: ``[mqtt]``: the node's broker, topics and commands (None: no MQTT).
    mqtt: MqttSettings | None = None
    #: The file this config came from (None if built in code); not part of its value.
    source: Path | None = field(default=None, compare=False, repr=False)
    #: Things that work but deserve attention (e.g. a password written into a URL).
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def base_dir(self) -> Path | None:
        """The folder relative paths in this config are relative to."""
        return None if self.source is None else self.source.parent

    def camera(self, name: str) -> Camera:
        """The camera called ``name``; KeyError naming the known cameras if there is none."""
        for cam in self.cameras:
            if cam.name == name:
                return cam
        known = ", ".join(repr(c.name) for c in self.cameras) or "none"
        raise KeyError(f"no camera named {name!r} (cameras: {known})")

    def recording_dir(self) -> Path:
        """The absolute recording folder."""
        if self.recording.dir is None:
            return default_recording_dir()
        return _absolute(self.recording.dir, self.base_dir)

    def model_path(self) -> Path | None:
        """The absolute path of the detection model, or None for the built-in detector."""
        model = self.detection.model
        return None if model is None else _absolute(model, self.base_dir)

    def labels_path(self) -> Path | None:
        """The absolute path of the labels file, or None."""
        labels = self.detection.labels
        return None if labels is None else _absolute(labels, self.base_dir)

    def detect_fps(self, camera: Camera) -> float:
        """Detections per second for ``camera``."""
        return camera.detect_fps if camera.detect_fps is not None else self.detection.fps

"""One measured run of bench/wall.py: one design, N cameras, one window (a child process).

bench/wall.py starts this as ``wall.py --child DESIGN --n N --url URL …`` with Qt on the
offscreen platform and the binding in ``QT_API``. It builds the design, waits until every
camera has shown a frame, lets ``warmup`` seconds pass, measures ``seconds`` seconds, prints
``WINDOW START`` / ``WINDOW END`` (the parent asks the RTSP server for its frame counts
then) and finally ``RESULT <json>``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import threading
import time
from typing import Any

import psutil

TILE = (960, 540)
DESIGNS = ("original", "camwall", "camwall-rec", "floor-full", "floor-tile")
READY_TIMEOUT_S = 45.0


def _columns(cameras: int) -> int:
    return math.ceil(math.sqrt(cameras))


class _Recorder:
    """Latencies of newly painted frames, in ns, across all tiles of a run."""

    def __init__(self) -> None:
        self.latencies: list[int] = []

    def __call__(self, latency_ns: int) -> None:
        self.latencies.append(latency_ns)


def _camwall_design(url: str, cameras: int, record: _Recorder, recording: bool = False) -> Any:
    import shutil
    import tempfile
    from pathlib import Path

    from qtpy.QtWidgets import QApplication

    from camwall.config import Camera, Config, RecordingConfig, WallConfig
    from camwall.errors import CamwallError
    from camwall.runtime import Runtime
    from camwall.ui.view.view_stats import StatsCollector
    from camwall.ui.wall.grid import CameraGrid
    from camwall.ui.wall.tile import CameraTile
    from camwall.ui.wall.wall_cameras import WallCameras

    class RecordingCollector(StatsCollector):
        """The view's own stats, plus every shown frame's latency for percentiles."""

        def shown(self, latency_ns: int, width: int, height: int) -> None:
            super().shown(latency_ns, width, height)
            record(latency_ns)

    class Design:
        def __init__(self) -> None:
            self.grid = CameraGrid()
            # The wall's parts over the one runtime, as `camwall --config` builds them;
            # "camwall-rec" records every camera too (remux only: no second decode).
            self.folder = Path(tempfile.mkdtemp(prefix="camwall-bench-rec-"))
            # Every frame decoded: this measures the frame path. The decode budget, which
            # would (rightly) drop cameras to keyframes past the CPU, has bench/decode_budget.py.
            config = Config(
                wall=WallConfig(decode_budget=False),
                recording=RecordingConfig(dir=self.folder, segment_seconds=10.0),
            )
            self.runtime = Runtime(config, mode="process")
            self.wall = WallCameras(self.runtime, lambda name: "main")
            self.tiles: list[CameraTile] = []
            for i in range(cameras):
                tile = CameraTile(f"cam{i}")
                # The bench's window into the view's per-frame numbers (a private member).
                tile._collector = RecordingCollector()
                camera = Camera(name=f"cam{i}", url=url, record=recording)
                self.wall.add(camera, tile, start=False)
                self.grid.add_tile(tile)
                self.tiles.append(tile)
            cols = _columns(cameras)
            rows = math.ceil(cameras / cols)
            self.grid.resize(cols * TILE[0] + (cols - 1) * 2, rows * TILE[1] + (rows - 1) * 2)
            self.grid.show()
            QApplication.processEvents()

        def start(self) -> None:
            for i in range(cameras):
                self.wall.start(f"cam{i}")

        def streaming(self) -> int:
            return sum(1 for t in self.tiles if t.shown_seq > 0)

        def decoded(self) -> int:
            total = 0
            for tile in self.tiles:
                ring = tile.ring
                try:
                    total += ring.latest_seq if ring is not None else 0
                except CamwallError:
                    pass  # the tile is moving to another ring right now
            return total

        def tile_sizes(self) -> str:
            return ", ".join(f"{t.width()}×{t.height()}" for t in self.tiles[:1])

        def stop(self) -> None:
            self.wall.begin_close()
            self.runtime.close(10.0)
            self.grid.close()
            shutil.rmtree(self.folder, ignore_errors=True)

        def stop_from_thread(self) -> None:
            self.runtime.close(10.0)  # thread-safe: stops workers, unlinks rings

        def release(self) -> None:
            shutil.rmtree(self.folder, ignore_errors=True)

    return Design()


def _original_design(url: str, cameras: int, record: _Recorder) -> Any:
    from original_design import MonitorWidget

    class Design:
        def __init__(self) -> None:
            self.widget = MonitorWidget([url] * cameras, TILE, _columns(cameras))
            for label in self.widget.labels.values():
                label.on_new_frame_painted = record
            self.widget.show()

        def start(self) -> None:
            self.widget.start()

        def streaming(self) -> int:
            return sum(1 for lb in self.widget.labels.values() if lb.painted_frame)

        def decoded(self) -> int:
            return sum(t.frames for t in self.widget.threads.values())

        def tile_sizes(self) -> str:
            return ""

        def stop(self) -> None:
            self.widget.stop()
            self.widget.close()

        def stop_from_thread(self) -> None:
            # The UI thread is still running queued slots: stop the threads, but leave the
            # blocks (a slot opening an unlinked block would abort PyQt5); the orchestrator
            # removes them once this process has gone.
            self.widget.stop()

        def release(self) -> None:
            self.widget.release()

    return Design()


def _floor_design(url: str, cameras: int, record: _Recorder, mode: str) -> Any:
    from floor_design import FloorWall

    class Design:
        def __init__(self) -> None:
            self.wall = FloorWall(url, cameras, TILE, _columns(cameras), mode)
            for view in self.wall.views:
                view.on_new_frame_painted = record
            self.wall.show()

        def start(self) -> None:
            self.wall.start()

        def streaming(self) -> int:
            return sum(1 for v in self.wall.views if v.shown)

        def decoded(self) -> int:
            return self.wall.decoded()

        def tile_sizes(self) -> str:
            return ""

        def stop(self) -> None:
            self.wall.stop()
            self.wall.close()

        def stop_from_thread(self) -> None:
            self.wall.stop()

        def release(self) -> None:
            pass

    return Design()


def binding_refcount_bug() -> str | None:
    """Why this Qt binding cannot run a wall for long here, or None.

    PySide6 6.12.0 on Python 3.11 (before None and True became immortal) drops a reference
    to ``None`` on every call of a C++ method returning void (``QPainter.fillRect``, …) and
    to ``True`` on every ``Signal.emit()``: a wall painting 100 frames a second aborts with
    "Fatal Python error: none_dealloc" within a minute.
    """
    import qtpy
    from qtpy.QtCore import QRect
    from qtpy.QtGui import QColor, QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(100):
        painter.fillRect(QRect(0, 0, 4, 4), QColor(0, 0, 0))
    lost = before - sys.getrefcount(None)
    painter.end()
    if lost >= 100:
        return (
            f"{qtpy.API_NAME} {qtpy.QT_VERSION} loses a reference to None on every void method "
            f"call on Python {platform.python_version()} (a binding bug): a wall would crash "
            "within a minute. Run with --binding pyqt5, or install another PySide6 version."
        )
    return None


def _tree_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of this process and every descendant, by pid."""
    me = psutil.Process()
    out = {}
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


def _ui_thread_cpu() -> float:
    """CPU seconds of the main (UI) thread so far, readable from any thread."""
    main = threading.main_thread().native_id
    for thread in psutil.Process().threads():
        if thread.id == main:
            return float(thread.user_time + thread.system_time)
    return 0.0


def child_main(design: str, cameras: int, url: str, warmup: float, seconds: float) -> None:
    """One measured run; prints WINDOW START / WINDOW END, then RESULT <json>.

    A driver thread, not a Qt timer, keeps the time: a design whose UI thread drowns in
    queued signals (the original at several cameras) would starve a timer, and the run
    must end on time all the same. If the UI thread does not get around to stopping the
    design within a few seconds, the driver stops it from outside and exits.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyqt5")  # the orchestrator says which (--binding)
    from qtpy.QtCore import QObject
    from qtpy.QtWidgets import QApplication

    from camwall.ui.qt_compat import Signal, connect_queued

    app = QApplication([sys.argv[0]])
    broken = binding_refcount_bug()
    if broken:
        raise SystemExit(broken)
    record = _Recorder()
    if design in ("camwall", "camwall-rec"):
        runner = _camwall_design(url, cameras, record, recording=design == "camwall-rec")
    elif design == "original":
        runner = _original_design(url, cameras, record)
    else:
        runner = _floor_design(url, cameras, record, design.removeprefix("floor-"))
    result: dict[str, Any] = {"design": design, "cameras": cameras}
    stopped = threading.Event()

    class Finisher(QObject):
        finish = Signal()

    def finish() -> None:
        if not stopped.is_set():
            runner.stop()
            stopped.set()
        app.quit()

    finisher = Finisher()
    connect_queued(finisher.finish, finish)

    def snapshot() -> dict[str, Any]:
        return {
            "t": time.monotonic(),
            "cpu": _tree_cpu(),
            "ui": _ui_thread_cpu(),
            "decoded": runner.decoded(),
            "latencies": len(record.latencies),
        }

    def drive() -> None:
        t0 = time.monotonic()
        while runner.streaming() < cameras and time.monotonic() - t0 < READY_TIMEOUT_S:
            time.sleep(0.05)
        result["ready_s"] = time.monotonic() - t0
        result["streaming_at_start"] = runner.streaming()
        time.sleep(warmup)
        start = snapshot()
        print("WINDOW START", flush=True)
        time.sleep(seconds)
        end = snapshot()
        print("WINDOW END", flush=True)
        cpu = sum(end["cpu"][p] - start["cpu"].get(p, 0.0) for p in end["cpu"])
        lat = record.latencies[start["latencies"] : end["latencies"]]
        result.update(
            seconds=end["t"] - start["t"],
            cpu_s=cpu,
            ui_s=end["ui"] - start["ui"],
            shown=len(lat),
            decoded=end["decoded"] - start["decoded"],
            latencies_ms=[round(x / 1e6, 2) for x in lat],
            processes=len(end["cpu"]),
            streaming=runner.streaming(),
            tile=runner.tile_sizes(),
        )
        print("RESULT " + json.dumps(result), flush=True)
        finisher.finish.emit()
        if not stopped.wait(10.0):
            # The UI thread is still working through its backlog: stop it from here.
            print("the UI thread did not stop the run; stopping it from outside", file=sys.stderr)
            runner.stop_from_thread()
            os._exit(0)

    driver = threading.Thread(target=drive, name="bench-driver", daemon=True)
    runner.start()
    driver.start()
    app.exec()
    driver.join(15.0)
    runner.release()

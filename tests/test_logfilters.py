"""Library log floods collapse: the first record of a kind passes, repeats are counted."""

from __future__ import annotations

import logging
from collections.abc import Callable

from camwall.control import ControlService, OnvifSettings
from camwall.errors import ControlError
from camwall.logfilters import CollapsingFilter, collapse_library_records
from support.onvif_sim_faults import MisbehavingOnvifSimulator, Misbehaviour


class Clock:
    """A clock the test advances (the filter's windows are minutes long)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def record(
    name: str, msg: str, *args: object, exc: BaseException | None = None
) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def test_first_passes_repeats_are_counted_then_summarised() -> None:
    clock = Clock()
    flt = CollapsingFilter(window_s=60.0, clock=clock)
    assert flt.filter(record("zeep.xsd.types.simple", "Error during %s", "x"))
    passed = [
        flt.filter(record("zeep.xsd.types.simple", "Error during %s", f"y{i}")) for i in range(37)
    ]
    assert not any(passed) and flt.suppressed == 37
    # Another kind (other message, other exception type, other logger) is not affected.
    assert flt.filter(record("zeep.xsd.types.simple", "Other %s", "x"))
    assert flt.filter(record("zeep.xsd.types.simple", "Error during %s", "x", exc=ValueError()))
    assert flt.filter(record("aiohttp.client", "Error during %s", "x"))
    # Our own loggers are never collapsed.
    assert all(flt.filter(record("camwall.control", "Error during %s", "x")) for _ in range(3))
    assert flt.flush() == []  # still inside the window
    clock.now += 61
    after = record("zeep.xsd.types.simple", "Error during %s", "z")
    assert flt.filter(after)
    assert after.getMessage() == "Error during z (… repeated 37 times in 60 s)"


def test_flush_reports_kinds_that_went_quiet() -> None:
    clock = Clock()
    flt = CollapsingFilter(window_s=10.0, clock=clock)
    for _ in range(5):
        flt.filter(record("httpx", "HTTP Request: %s", "POST"))
    flt.filter(record("onvif.client", "once only"))
    clock.now += 11
    summaries = flt.flush()
    assert [r.getMessage() for r in summaries] == ["… repeated 4 times in 10 s: HTTP Request: %s"]
    assert summaries[0].name == "httpx" and summaries[0].levelno == logging.ERROR
    assert flt.flush() == []  # reported once
    assert flt.filter(record("httpx", "HTTP Request: %s", "POST"))  # a fresh window


def test_kinds_are_bounded() -> None:
    flt = CollapsingFilter(max_kinds=8, clock=Clock())
    for i in range(100):
        assert flt.filter(record("zeep", f"message {i}"))
    assert len(flt._seen) == 8


def test_a_real_zeep_flood_collapses(
    control_service: ControlService,
    make_misbehaving_sim: Callable[..., MisbehavingOnvifSimulator],
) -> None:
    """A camera answering words for numbers: zeep logs an ERROR traceback per element."""
    sim = make_misbehaving_sim(Misbehaviour.WRONG_TYPES, ["GetNodes", "GetConfigurationOptions"])
    handler = Collect()
    flt = collapse_library_records(handler)
    assert collapse_library_records(handler) is flt  # attached once
    raw_handler = Collect()  # the same records, unfiltered
    root = logging.getLogger()
    root.addHandler(handler)
    root.addHandler(raw_handler)
    zeep_logger = logging.getLogger("zeep")
    level = zeep_logger.level
    zeep_logger.setLevel(logging.ERROR)
    try:
        settings = OnvifSettings(sim.host, sim.port, sim.config.user, sim.config.password)
        for _ in range(3):
            cam = control_service.open_onvif(settings)
            try:
                cam.connected.result(30)
            except ControlError:
                pass
            cam.close().result(30)
    finally:
        root.removeHandler(handler)
        root.removeHandler(raw_handler)
        zeep_logger.setLevel(level)
    raw = [r for r in raw_handler.records if r.name.startswith("zeep")]
    shown = [r for r in handler.records if r.name.startswith("zeep")]
    assert len(raw) >= 6, "the spoiled replies should make zeep log errors"
    kinds = {(r.name, r.msg, r.exc_info[0] if r.exc_info else None) for r in raw}
    assert len(shown) < len(raw) and len(shown) == len(kinds)
    assert flt.suppressed == len(raw) - len(shown)

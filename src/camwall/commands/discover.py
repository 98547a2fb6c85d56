"""``camwall discover``: find ONVIF cameras on the LAN (WS-Discovery), optionally their streams.

Lists every device that answered — address, model, name, scopes — and every answer that was
no use, with the reason. With ``--user`` (and ``--password-env``) it also logs in to each
camera and lists its profiles: stream URL, role (main/sub picked by resolution), codec,
resolution. Everything is bounded in time; exit code 3 if no camera was found or one failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Any

from camwall.commands.check import positive_seconds
from camwall.commands.common import EXIT_CHECK_FAILED, EXIT_CODES_HELP, EXIT_OK, out
from camwall.errors import ConfigError

DESCRIPTION = """\
Find ONVIF cameras with a WS-Discovery probe on every interface (and/or at given
addresses), and list each one's address, model, name and scopes. With --user and
--password-env, log in to each camera and list its streams (main and sub picked by
resolution, codec, resolution). Answers that are no use are listed with the reason."""


def _target(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "3702"
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be a number") from None
    if not host or not 0 < number < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: give HOST or HOST:PORT (port 1..65535)")
    return host, number


def add_parser(sub: Any) -> None:
    """Register ``camwall discover``."""
    parser = sub.add_parser(
        "discover",
        help="find ONVIF cameras on the network (WS-Discovery) and their streams",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=3.0,
        metavar="S",
        help="listen this long for answers; also each login's timeout (default 3)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document (scripts)")
    parser.add_argument(
        "--address",
        type=_target,
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="also probe this address directly (unicast, default port 3702); repeatable",
    )
    parser.add_argument(
        "--no-multicast",
        dest="multicast",
        action="store_false",
        help="probe only the --address targets, not the LAN",
    )
    parser.add_argument("--user", help="log in with this user and list each camera's streams")
    parser.add_argument(
        "--password-env",
        metavar="VAR",
        help="environment variable holding the password for --user",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Probe, optionally inspect, print; 0 if every camera found is usable, else 3."""
    from camwall.control.model import OnvifSettings
    from camwall.control.onvif.find import inspect_devices, probe

    if args.log_level is None:
        logging.getLogger("camwall").setLevel(logging.WARNING)
    password = ""
    if args.password_env is not None:
        if args.user is None:
            raise ConfigError("--password-env needs --user")
        if args.password_env not in os.environ:
            raise ConfigError(f"environment variable {args.password_env} is not set")
        password = os.environ[args.password_env]
    if not args.multicast and not args.address:
        raise ConfigError("--no-multicast needs at least one --address")
    found = probe(args.timeout, targets=args.address, multicast=args.multicast)
    devices = found.devices
    if args.user is not None:
        # Host and port are each device's; this carries the login and the timeouts.
        login = OnvifSettings(
            "0.0.0.0",
            80,
            args.user,
            password,
            call_timeout_s=args.timeout,
            connect_timeout_s=max(args.timeout, 5.0),
        )
        devices = inspect_devices(devices, login)
    ok = bool(devices) and all(d.problem is None for d in devices if d.is_camera)
    if args.json:
        document = {
            "ok": ok,
            "devices": [d.to_dict() for d in devices],
            "bad_answers": [{"address": b.address, "reason": b.reason} for b in found.bad_answers],
        }
        out(json.dumps(document, indent=2))
    else:
        _print(devices, found.bad_answers)
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _print(devices: list[Any], bad: list[Any]) -> None:
    if not devices:
        out("no device answered the probe")
    for d in devices:
        where = ":".join(str(p) for p in d.service) if d.service else d.address
        mark = "✗" if d.problem or not d.is_camera else "✓"
        out(f"{mark} {where}  {d.model or '?'}  {d.name or '?'}")
        if d.answers > 1:
            out(f"    answered {d.answers} times (shown once)")
        if d.problem:
            out(f"    {d.problem}")
        out(f"    endpoint {d.endpoint}")
        for scope in d.scopes:
            out(f"    scope {scope}")
        for s in d.streams:
            size = f"{s.width}x{s.height}" if s.width and s.height else "?"
            out(f"    {s.role.value:5} {s.encoding or '?':5} {size:9} {s.uri}")
    for b in bad:
        out(f"✗ {b.address}  {b.reason}")

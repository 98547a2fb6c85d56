"""``camwall model``: fetch a pinned detector, add your own ONNX model, list the models folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camwall.commands.check import positive_seconds
from camwall.commands.common import EXIT_CODES_HELP, EXIT_OK, out

if TYPE_CHECKING:
    from camwall.detect.model_store import ModelInfo

# camwall.detect (OpenCV, NumPy) is imported when a subcommand runs, not to build the parser:
# `camwall --help` stays quick.

DESCRIPTION = """\
Manage ONNX object detectors.

  camwall model fetch NAME    download a model of the catalog (pinned, permissively licensed),
                              verify its sha256, resume an interrupted download
  camwall model add FILE      inspect your own .onnx (YOLOv5, YOLOv8/11, YOLOX, NMS included)
                              and copy it into the models folder
  camwall model list          the models folder and the catalog

Use a model with DetectorSpec(model=...) or the config's [detection] model = "<path>".

The models folder: --models-dir, else $CAMWALL_MODELS_DIR, else the user data folder
(~/.local/share/camwall/models on Linux). `camwall model list` shows the catalog."""


def add_parser(sub: Any) -> None:
    """Register ``camwall model`` and its subcommands."""
    parser = sub.add_parser(
        "model",
        help="fetch, add and list ONNX object detectors",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=lambda _args: parser.print_help() or EXIT_OK)
    actions = parser.add_subparsers(dest="model_command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--models-dir",
            type=Path,
            default=None,
            metavar="DIR",
            help="the models folder (default: $CAMWALL_MODELS_DIR, else the user data folder)",
        )

    fetch = actions.add_parser(
        "fetch",
        help="download a model of the catalog, verified",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("name", help="a catalog name, e.g. yolox_nano (see: camwall model list)")
    common(fetch)
    fetch.add_argument(
        "--allow-unpinned",
        action="store_true",
        help="fetch an entry whose sha256 is not pinned yet (prints the hash for pinning)",
    )
    fetch.add_argument(
        "--from",
        dest="url",
        default=None,
        metavar="URL",
        help="download from this mirror instead (the pinned sha256 still applies)",
    )
    fetch.add_argument(
        "--timeout",
        type=positive_seconds,
        default=30.0,
        metavar="S",
        help="give up when the server sends nothing for this long (default 30 s)",
    )
    fetch.set_defaults(func=run_fetch)

    add = actions.add_parser("add", help="inspect your own .onnx model and copy it in")
    add.add_argument("file", type=Path, help="the .onnx file")
    common(add)
    add.add_argument("--name", default=None, help="name in the models folder (default: file stem)")
    add.add_argument("--licence", default=None, help="the model's licence, recorded in its sidecar")
    add.set_defaults(func=run_add)

    lst = actions.add_parser("list", help="the models folder and the catalog")
    common(lst)
    lst.set_defaults(func=run_list)


def _describe(info: ModelInfo) -> str:
    shape = "×".join(str(d) for d in info.input.get("shape", [])[2:])
    classes = f"{info.classes} classes" if info.classes else f"{len(info.labels)} labels"
    return f"{info.name}: {info.layout}, input {shape}, {classes}; {info.licence}"


def run_fetch(args: argparse.Namespace) -> int:
    """``camwall model fetch NAME``."""
    from camwall.detect.catalog import entry
    from camwall.detect.download import Progress
    from camwall.detect.model_store import fetch_model, models_dir

    e = entry(args.name)
    folder = models_dir(args.models_dir)
    stream = sys.stderr

    def unpinned(digest: str) -> None:
        stream.write(
            f"camwall: warning: {e.name} is not pinned; what was downloaded has\n"
            f"  sha256 {digest}\n  compare it with a trusted source before relying on it\n"
        )

    info = fetch_model(
        e,
        folder,
        allow_unpinned=args.allow_unpinned,
        url=args.url,
        progress=Progress(e.filename, stream),
        timeout=args.timeout,
        on_unpinned=unpinned,
    )
    out(f"{folder / info.file}")
    out(f"  {_describe(info)}")
    out(f"  sha256 {info.sha256}")
    return EXIT_OK


def run_add(args: argparse.Namespace) -> int:
    """``camwall model add FILE``."""
    from camwall.detect.model_store import add_model, models_dir

    folder = models_dir(args.models_dir)
    info = add_model(args.file, folder, name=args.name, licence=args.licence)
    out(f"{folder / info.file}")
    out(f"  {_describe(info)}")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    """``camwall model list``."""
    from camwall.detect.catalog import CATALOG
    from camwall.detect.model_store import ModelInfo, list_models, models_dir

    folder = models_dir(args.models_dir)
    found = list_models(folder)
    out(f"models in {folder}:")
    if not found:
        out("  (none)")
    for item in found:
        if isinstance(item, ModelInfo):
            out(f"  {_describe(item)}")
        else:
            out(f"  {item.stem}: no sidecar (not added with camwall model add)")
    out("catalog (camwall model fetch NAME):")
    have = {i.name for i in found if isinstance(i, ModelInfo)}
    for e in CATALOG:
        mark = "*" if e.name in have else " "
        pin = "" if e.pinned else " (sha256 not pinned yet)"
        out(f" {mark}{e.name:<12} {e.layout}, {e.input_size[0]}×{e.input_size[1]}{pin}")
    return EXIT_OK

"""Headless command line: ``slicewise info|screenshot|models|classify ...`` and ``--install-desktop``.

Stable contracts (tests and users rely on them):

- ``slicewise info PATH... [--json]``: exit 0 when at least one series was read, 1 when none.
- ``slicewise screenshot PATH --out FILE.png [--series UID] [--slice N] [--window C,W] [--size WxH]
  [--layout 1|1x3|2x2|conventional] [--crosshair X,Y,Z]
  [--model NAME --overlay gradcam|hirescam|occlusion|both
  --opacity 0..1 --target CLASS --colormap NAME]``
- ``slicewise models [--json]``
- ``slicewise classify PATH --model NAME [--series UID] [--explain gradcam|hirescam|occlusion]
  [--target CLASS] [--out DIR] [--dicom-out DIR] [--json]``
- ``slicewise teach CASELIST|demo [--replay ANSWERS.json|first] [--out SESSION.csv] [--reader NAME]
  [--occlusion] [--present [--windowed]]``
- ``slicewise batch SOURCE... --model NAME --out DIR [--explain gradcam|hirescam|occlusion] [--nifti]
  [--dicom] [--engine local|ray] [--json-progress]``: exit 0 all classified, 2 some series failed.
- ``slicewise pacs echo|find|get SERVER [--patient-name --patient-id --date FROM-TO --modality
  --accession --description --study UID --series UID] [--out DIR] [--all] [--json]``

Errors are reported as one readable line on stderr, never as a traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from viewer.cli.errors import CommandError

COMMANDS = ("info", "screenshot", "models", "classify", "teach", "batch", "pacs")
FLAGS = ("--install-desktop", "--version", "-h", "--help")


TARGET_HELP = ("class to explain (default: a detector's finding, e.g. tumour or lesion; "
               "other models: the predicted class)")


def is_command(argv: Sequence[str]) -> bool:
    """True when ``argv`` asks for a headless command rather than the GUI."""
    return bool(argv) and (argv[0] in COMMANDS or argv[0] in FLAGS)


def _window(text: str) -> tuple[float, float]:
    try:
        c, w = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected CENTER,WIDTH, e.g. 40,400") from None
    if w <= 0:
        raise argparse.ArgumentTypeError("window width must be positive")
    return c, w


def _point(text: str) -> tuple[float, float, float]:
    try:
        x, y, z = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected X,Y,Z in mm, e.g. 10,-20.5,30") from None
    return (x, y, z)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("expected a number from 0 to 1")
    return value


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected WIDTHxHEIGHT, e.g. 800x800") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError("size must be between 16 and 8192 pixels a side")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    from viewer import __version__

    p = argparse.ArgumentParser(prog="slicewise", description="SliceWise DICOM viewer. "
                                "Without a command, opens the viewer on PATH (or the sample study).")
    p.add_argument("--version", action="version", version=f"SliceWise {__version__}")
    p.add_argument("--install-desktop", action="store_true",
                   help="install the desktop menu entry and icon for the current user")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"),
                   help="where models run (default: CUDA, else MPS, else CPU)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("info", help="list the series found under PATH")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--json", action="store_true", help="print one JSON object")

    s = sub.add_parser("screenshot", help="render a slice offscreen to PNG as the viewer draws it")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--out", required=True, help="PNG file to write")
    s.add_argument("--series", help="series UID (default: the first series)")
    s.add_argument("--slice", type=int, help="slice number, 1-based (default: the middle slice)")
    s.add_argument("--window", type=_window, help="CENTER,WIDTH")
    s.add_argument("--size", type=_size, default=(800, 800), help="WIDTHxHEIGHT (default 800x800)")
    s.add_argument("--show-patient", action="store_true", help="draw patient data (hidden by default)")
    s.add_argument("--layout", choices=("1", "1x3", "2x2", "conventional"), default="1",
                   help="view layout (default: one view)")
    s.add_argument("--crosshair", type=_point, help="X,Y,Z patient LPS mm for the linked crosshair")
    s.add_argument("--model", help="classifier whose heat map is drawn (see 'slicewise models')")
    s.add_argument("--overlay", choices=("gradcam", "hirescam", "occlusion", "both"),
                   default="gradcam",
                   help="heat map drawn with --model (both: Grad-CAM and occlusion side by side)")
    s.add_argument("--opacity", type=_fraction, default=0.5, help="overlay opacity 0..1")
    s.add_argument("--target", help=TARGET_HELP)
    s.add_argument("--colormap", choices=("inferno", "jet", "hot", "turbo"), default="inferno")
    s.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), dest="sub_device")

    s = sub.add_parser("models", help="list the installed classifiers")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("classify", help="run a classifier on a series and optionally explain it")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--model", required=True, help="model name (see 'slicewise models')")
    s.add_argument("--series", help="series UID (default: the first suitable series)")
    s.add_argument("--slices", help="slice range, 1-based and inclusive, e.g. 10-14 (default: all)")
    s.add_argument("--explain", choices=("gradcam", "hirescam", "occlusion"),
                   help="write each slice's heat map by this method, scored against random maps")
    s.add_argument("--target", help=TARGET_HELP)
    s.add_argument("--out", help="folder for maps (.npy float32) and PNG overlays")
    s.add_argument("--dicom-out", metavar="DIR",
                   help="folder for DICOM results: structured report; with --explain also "
                        "parametric map, segmentation and secondary captures")
    s.add_argument("--json", action="store_true")
    s.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), dest="sub_device")

    from viewer.cli.teach import add_teach_parser

    add_teach_parser(sub)
    from viewer.cli.batch import add_batch_parser

    add_batch_parser(sub)
    from viewer.cli.pacs import add_pacs_parser

    add_pacs_parser(sub)
    return p


def run(argv: Sequence[str]) -> int:
    """Runs a headless command and returns its exit status."""
    from viewer.core.logs import configure_logging

    configure_logging()
    parser = build_parser()
    args = parser.parse_args(list(argv))
    device = getattr(args, "sub_device", None) or args.device
    args.device = device
    if device and device != "auto":
        import os

        os.environ["SLICEWISE_DEVICE"] = device
    try:
        if args.install_desktop:
            from viewer.cli.desktop import install_desktop_entry

            for path in install_desktop_entry():
                print(path)
            return 0
        if args.command == "info":
            from viewer.cli.info import run_info

            return run_info(args.paths, as_json=args.json)
        if args.command == "screenshot":
            from viewer.cli.screenshot import run_screenshot

            return run_screenshot(args)
        if args.command == "models":
            from viewer.cli.models import run_models

            return run_models(as_json=args.json)
        if args.command == "classify":
            from viewer.cli.classify import run_classify

            return run_classify(args)
        if args.command == "teach":
            from viewer.cli.teach import run_teach

            return run_teach(args)
        if args.command == "batch":
            from viewer.cli.batch import run_batch_command

            return run_batch_command(args)
        if args.command == "pacs":
            from viewer.cli.pacs import run_pacs

            return run_pacs(args)
        parser.print_help()
        return 0
    except CommandError as exc:
        print(f"slicewise: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the command line never shows a traceback
        logging.getLogger(__name__).debug("command failed", exc_info=True)
        print(f"slicewise: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv)

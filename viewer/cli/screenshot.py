"""``slicewise screenshot``: render the slice view offscreen exactly as the viewer draws it."""
from __future__ import annotations

import argparse
from pathlib import Path

from viewer.cli.common import find_series, load
from viewer.cli.errors import CommandError


def run_screenshot(args: argparse.Namespace) -> int:
    _, chosen = find_series(args.paths, args.series)
    volume = load(chosen[0])
    index = None
    if args.slice is not None:
        if not 1 <= args.slice <= volume.n_slices:
            raise CommandError(f"slice {args.slice} is outside 1-{volume.n_slices}")
        index = args.slice - 1
    from viewer.cli.render import render_to_png

    try:
        out = render_to_png(volume, Path(args.out), slice_index=index, window=args.window,
                            size=args.size, anonymise=not args.show_patient,
                            layout=args.layout, crosshair=args.crosshair, model=args.model,
                            overlay=args.overlay if args.model else None, opacity=args.opacity,
                            target=args.target, colormap=args.colormap,
                            device=args.device or "auto")
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    except Exception as exc:
        from inference.errors import InputError, ModelLoadError

        if isinstance(exc, (InputError, ModelLoadError)):
            raise CommandError(str(exc)) from exc
        raise
    print(out)
    return 0

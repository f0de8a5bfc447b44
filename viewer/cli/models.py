"""``slicewise models``: the installed classifiers with their manifests' key facts."""
from __future__ import annotations

import json
import sys


def run_models(*, as_json: bool) -> int:
    from inference import broken_models, describe_models

    models = describe_models()
    broken = [{"name": b.name, "source": b.source, "error": b.error} for b in broken_models()]
    if as_json:
        json.dump({"models": models, "broken": broken}, sys.stdout, indent=2)
        print()
        return 0
    for m in models:
        badge = "  [demo weights - not for clinical use]" if m.get("demo") else ""
        print(f"{m['name']:10} {m['task']}{badge}")
        print(f"    classes: {', '.join(m['classes'])}")
        print(f"    backbone: {m.get('backbone', '?')}   sha256: {str(m.get('sha256', ''))[:16]}…")
        metrics = m.get("metrics") or {}
        shown = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
        if shown:
            print("    metrics: " + ", ".join(f"{k} {v:.3g}" for k, v in list(shown.items())[:6]))
    for b in broken:
        print(f"{b['name']:10} BROKEN, not loaded: {b['error']}")
    return 0

"""Model manifests (JSON) -> frozen ``ModelSpec``; weights from safetensors after a sha256 check.

Built-in manifests live in ``resources/models/<name>.json``. Other packages register models through
the ``slicewise.models`` entry-point group; an entry point's value is either a path to a manifest
(``"/abs/path/model.json"``) or an object reference that loads to a path or to a callable returning one.
A manifest or plug-in that cannot be read is listed by ``broken_models()`` with its error and
skipped; the other models stay available.
Weights are never unpickled: only a ``.safetensors`` file whose sha256 matches the manifest is read.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from inference.errors import ModelLoadError

ENTRY_POINT_GROUP = "slicewise.models"
DEMO_STATEMENT = "Demo weights trained on SliceWise's synthetic phantoms; not for clinical use."
_REPO_MODELS = Path(__file__).resolve().parents[1] / "resources" / "models"


@dataclass(frozen=True)
class ModelSpec:
    """A classifier's manifest. ``input`` holds size, channels, level (slice|exam), normalisation;
    ``explain`` default explanation settings, e.g. {"occlusion": {"passes": [[16, 8], [8, 4]],
    "blur_sigma": 3.0}} (patch / stride / blur in model pixels).

    ``domain``: what the model was trained on, checked before every call (``inference.domain``):
    {"modality": "MR", "body_parts": ["BRAIN"], "planes": ["axial"], "input": {...}}; derived
    from ``modality`` / ``input.body_part`` when the manifest has none (``domain_block``).
    ``calibration``: {"temperature": T, "ece_before", "ece_after", "fitted_on", ...} (temperature
    scaling, Guo et al. 2017); {} when uncalibrated. ``ood``: the out-of-distribution statistics
    {"file", "sha256", "thresholds": {group: distance}, ...} (``inference.trust``); {} when none."""

    name: str
    version: str
    task: str
    classes: tuple[str, ...]
    input: dict[str, Any]
    architecture: dict[str, Any]
    backbone: str
    target_layer: str
    weights: str
    sha256: str
    modality: str
    training_data: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    intended_use: str = ""
    demo: bool = False
    demo_statement: str = ""
    planes: tuple[str, ...] = ()
    explain: dict[str, Any] = field(default_factory=dict)
    manifest_path: Path | None = None
    domain: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    ood: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> str:
        """"slice" for 2D models, "exam" for knee (several planes), "series" for volume models."""
        return str(self.input.get("level", "slice"))

    @property
    def weights_path(self) -> Path:
        """The weights file, relative paths resolved beside the manifest."""
        p = Path(self.weights)
        if not p.is_absolute() and self.manifest_path is not None:
            p = self.manifest_path.parent / p
        return p

    @property
    def ood_path(self) -> Path | None:
        """The out-of-distribution statistics file (safetensors), None when the model has none."""
        if not self.ood.get("file"):
            return None
        p = Path(str(self.ood["file"]))
        if not p.is_absolute() and self.manifest_path is not None:
            p = self.manifest_path.parent / p
        return p

    @property
    def map_target(self) -> str | None:
        """The class whose evidence heat maps show unless the reader picks another
        (``explain.target``): a detector's finding ("tumour", "lesion"), whose map says where
        the model looked for one. None: the predicted class (classifiers such as contrast)."""
        target = self.explain.get("target")
        return target if isinstance(target, str) and target in self.classes else None

    def map_reference(self, method: str, target: str) -> float | None:
        """The map value drawn at full colour for ``target``'s maps by ``method``
        (``explain.reference``, fitted by ``inference.evaluate --write-manifest``): what a weak
        finding's map reaches on held-out phantoms, so a slice without a finding shows faint
        colours instead of its own noise stretched to full colour. None: each map is scaled
        to its own maximum."""
        ref = self.explain.get("reference")
        entry = ref.get(target) if isinstance(ref, dict) else None
        value = entry.get(method) if isinstance(entry, dict) else None
        try:
            value = float(value) if value is not None else None
        except (TypeError, ValueError):
            return None
        return value if value is not None and math.isfinite(value) and value > 0 else None

    @property
    def temperature(self) -> float:
        """The calibration temperature (1.0 when the model is uncalibrated)."""
        return float(self.calibration.get("temperature", 1.0) or 1.0)

    def to_json(self) -> dict[str, Any]:
        """The manifest as written to disk."""
        return {"name": self.name, "version": self.version, "task": self.task,
                "modality": self.modality, "classes": list(self.classes), "input": self.input,
                "architecture": {**self.architecture, "backbone": self.backbone},
                "target_layer": self.target_layer,
                "weights": {"file": self.weights, "sha256": self.sha256},
                "planes": list(self.planes), "explain": self.explain,
                "domain": self.domain, "calibration": self.calibration, "ood": self.ood,
                "training_data": self.training_data,
                "training": self.training, "metrics": self.metrics,
                "intended_use": self.intended_use, "demo": self.demo,
                "demo_statement": self.demo_statement}


def spec_from_json(data: dict[str, Any], path: Path | None = None) -> ModelSpec:
    """Validate a manifest dict and build its ``ModelSpec``; ModelLoadError names what is missing."""
    where = str(path) if path else "manifest"
    try:
        arch = dict(data["architecture"])
        weights = data["weights"]
        return ModelSpec(
            name=str(data["name"]), version=str(data.get("version", "0")), task=str(data["task"]),
            classes=tuple(str(c) for c in data["classes"]), input=dict(data["input"]),
            architecture=arch, backbone=str(arch["backbone"]), target_layer=str(data["target_layer"]),
            weights=str(weights["file"]), sha256=str(weights["sha256"]).lower(),
            modality=str(data.get("modality", "")), training_data=str(data.get("training_data", "")),
            training=dict(data.get("training", {})), metrics=dict(data.get("metrics", {})),
            intended_use=str(data.get("intended_use", "")), demo=bool(data.get("demo", False)),
            demo_statement=str(data.get("demo_statement", "")),
            planes=tuple(data.get("planes", ())), explain=dict(data.get("explain", {})),
            manifest_path=path, domain=dict(data.get("domain", {}) or {}),
            calibration=dict(data.get("calibration", {}) or {}), ood=dict(data.get("ood", {}) or {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{where}: the model manifest is incomplete or malformed ({exc!r}); "
                             "ask the model's provider for a valid manifest") from exc


def read_manifest(path: str | Path) -> ModelSpec:
    """Read one manifest file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError(f"{path}: model manifest not found") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: model manifest cannot be read ({exc})") from exc
    return spec_from_json(data, path.resolve())


def builtin_models_dir() -> Path:
    """``resources/models`` through importlib.resources, else the repository path."""
    try:
        p = Path(str(resources.files("resources") / "models"))
        if p.is_dir():
            return p
    except (ModuleNotFoundError, TypeError):
        pass
    return _REPO_MODELS


@dataclass(frozen=True)
class BrokenModel:
    """A model that cannot be listed: ``name`` (the manifest's file stem or the entry point's
    name), ``source`` (manifest path or entry point value) and ``error`` (radiologist-readable)."""

    name: str
    source: str
    error: str


def _entry_point_manifests() -> tuple[list[Path], list[BrokenModel]]:
    """Manifest paths of the ``slicewise.models`` entry points, and the plug-ins that failed."""
    found: list[Path] = []
    broken: list[BrokenModel] = []
    try:
        eps = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # broken package metadata must not hide the built-in models
        return [], [BrokenModel("(plug-ins)", ENTRY_POINT_GROUP, f"model plug-ins cannot be listed: {exc}")]
    for ep in eps:
        value: Any = ep.value
        if not str(value).endswith(".json"):
            try:
                value = ep.load()
                value = value() if callable(value) else value
            except Exception as exc:  # a broken plug-in must not hide the others: report it
                broken.append(BrokenModel(ep.name, str(ep.value),
                                          f"model plug-in {ep.name!r} ({ep.value}) failed to load: {exc}"))
                continue
        found.append(Path(str(value)))
    return found, broken


def discover_models() -> tuple[dict[str, Path], list[BrokenModel]]:
    """({model name: manifest path}, broken models): built-in models first, then entry-point
    models (a name already taken keeps the first). A manifest or plug-in that cannot be read is
    reported in the second list and skipped; it never hides the others."""
    out: dict[str, Path] = {}
    broken: list[BrokenModel] = []
    d = builtin_models_dir()
    builtin = sorted(d.glob("*.json")) if d.is_dir() else []
    plugins, broken_plugins = _entry_point_manifests()
    for p in [*builtin, *plugins]:
        try:
            name = read_manifest(p).name
        except ModelLoadError as exc:
            broken.append(BrokenModel(p.stem, str(p), str(exc)))
            continue
        out.setdefault(name, p)
    return out, broken + broken_plugins


def manifests() -> dict[str, Path]:
    """{model name: manifest path} of every usable model (see ``discover_models``)."""
    return discover_models()[0]


def list_models() -> list[str]:
    """Names of every available model (broken ones are in ``broken_models()``)."""
    return list(manifests())


def broken_models() -> list[BrokenModel]:
    """Model manifests and plug-ins that could not be read, each with its error."""
    return discover_models()[1]


# Other spellings users (and the public API's examples) use for built-in models.
ALIASES = {"tumor": "tumour", "ct_lesion": "ct-lesion", "ctlesion": "ct-lesion"}


def get_spec(name: str, manifest_path: str | Path | None = None) -> ModelSpec:
    """The ModelSpec of a named model, or of the manifest at ``manifest_path``.

    ``name`` may also be one of :data:`ALIASES` (e.g. "tumor" for the "tumour" model).
    """
    if manifest_path is not None:
        return read_manifest(manifest_path)
    known = manifests()
    if name not in known:
        name = ALIASES.get(name.lower(), name)
    if name not in known:
        for b in broken_models():
            if b.name == name:
                raise ModelLoadError(b.error)
        raise ModelLoadError(f"no model called {name!r}; available: {', '.join(known) or 'none'}")
    return read_manifest(known[name])


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_safetensors_header(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(9)
    if head[:2] == b"PK" or head[:1] == b"\x80":
        raise ModelLoadError(f"{path}: this is a pickle / torch.save file; SliceWise never unpickles "
                             "model files (they can run code). Convert it to .safetensors.")
    if len(head) < 9 or head[8:9] != b"{" or struct.unpack("<Q", head[:8])[0] > 100_000_000:
        raise ModelLoadError(f"{path}: not a safetensors file; weights must be .safetensors")


def verified_weights(spec: ModelSpec) -> Path:
    """The spec's weights path after the suffix, sha256 and format checks (ModelLoadError otherwise)."""
    path = spec.weights_path
    if path.suffix != ".safetensors":
        raise ModelLoadError(f"{path}: weights must be a .safetensors file; pickle formats "
                             "(.pt, .pth, .ckpt, .pkl) are refused because loading them can run code")
    if not path.is_file():
        raise ModelLoadError(f"{path}: weights file not found (named in {spec.manifest_path})")
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise ModelLoadError(f"{path}: sha256 {digest[:12]}... does not match the manifest's "
                             f"{spec.sha256[:12]}...; the file was changed or corrupted. "
                             "Reinstall the model.")
    _check_safetensors_header(path)
    return path


def load_state(spec: ModelSpec) -> dict[str, Any]:
    """Verified tensors of the spec's weights (CPU)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = verified_weights(spec)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{path}: weights cannot be read as safetensors ({exc})") from exc


def load_ood(spec: ModelSpec) -> dict[str, Any] | None:
    """Verified tensors of the spec's out-of-distribution statistics (CPU), None when it has none.

    The file is a second safetensors file beside the weights, checked against ``ood.sha256``
    like the weights (never unpickled); ModelLoadError when it is missing, changed or unreadable.
    """
    path = spec.ood_path
    if path is None:
        return None
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if path.suffix != ".safetensors" or not path.is_file():
        raise ModelLoadError(f"{path}: the out-of-distribution statistics named in {spec.manifest_path} "
                             "are missing or not a .safetensors file; re-run python -m inference.calibrate")
    digest = sha256_file(path)
    if digest != str(spec.ood.get("sha256", "")).lower():
        raise ModelLoadError(f"{path}: sha256 {digest[:12]}... does not match the manifest; the "
                             "statistics were changed. Re-run python -m inference.calibrate")
    _check_safetensors_header(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{path}: statistics cannot be read as safetensors ({exc})") from exc


def write_manifest(spec: ModelSpec, path: str | Path) -> Path:
    """Write the manifest JSON (pretty, stable key order)."""
    path = Path(path)
    path.write_text(json.dumps(spec.to_json(), indent=2) + "\n", encoding="utf-8")
    return path

"""The MR acquisition parameters of an image: what the scanner did, read from the header.

``MRAcquisition`` holds the values that decide an MR image's weighting (T1, T2, FLAIR, proton
density, diffusion, ...): scanning sequence, TR, TE, TI, flip angle, contrast agent, image type,
and for enhanced multi-frame files the Acquisition Contrast and the functional-group values.
``viewer.modules.ai.weighting`` turns them into a weighting in words; the AI module checks the
MR classifiers' calls against it.

Classic MR (MR Image module): ScanningSequence (0018,0020), SequenceVariant (0018,0021),
RepetitionTime (0018,0080), EchoTime (0018,0081), InversionTime (0018,0082), FlipAngle
(0018,1314), MagneticFieldStrength (0018,0087), ContrastBolusAgent (0018,0010),
DiffusionBValue (0018,9087), ImageType (0008,0008). Enhanced MR: AcquisitionContrast
(0008,9209), EchoPulseSequence (0018,9008), EchoPlanarPulseSequence (0018,9018), and per frame
(else shared) MR Timing (TR, flip), MR Echo (EffectiveEchoTime), MR Modifier (InversionRecovery,
InversionTimes) and MR Diffusion (DiffusionBValue) items.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MRAcquisition:
    """MR acquisition parameters (times in ms, flip in degrees, field in tesla; None = absent).

    ``sequence``: ScanningSequence codes ("SE", "IR", "GR", "EP", "RM"), upper case.
    ``agent``: ContrastBolusAgent as written ("" = none recorded; "yes" when an enhanced file
    lists an agent only in its Contrast/Bolus Agent Sequence)."""

    sequence: tuple[str, ...] = ()
    variant: tuple[str, ...] = ()
    tr: float | None = None
    te: float | None = None
    ti: float | None = None
    flip: float | None = None
    field_t: float | None = None
    agent: str = ""
    image_type: tuple[str, ...] = ()
    contrast: str = ""          # AcquisitionContrast (enhanced MR): T1, T2, FLUID_ATTENUATED, ...
    b_value: float | None = None

    @property
    def empty(self) -> bool:
        """True when the header said nothing about the sequence or its timing."""
        return not (self.sequence or self.contrast or self.b_value or self.tr or self.te or self.ti
                    or self.image_type)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, (str, bytes)) and hasattr(value, "__len__"):
            value = value[0] if len(value) else None
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, IndexError):
        return None
    return v if math.isfinite(v) and v >= 0 else None


def _time(value: Any) -> float | None:
    """A time in ms; 0 (written by scanners for "not applicable") counts as absent."""
    v = _number(value)
    return v if v else None


def _codes(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, (str, bytes)) else list(value)
    out: list[str] = []
    for item in items:
        text = item.decode("ascii", "replace") if isinstance(item, bytes) else str(item)
        out += [t.strip().upper() for t in text.replace("\\", " ").split() if t.strip()]
    return tuple(out)


def _frame_item(ds: Any, sequence: str) -> Any | None:
    """The first frame's item of a functional group (per-frame first, then shared)."""
    for groups_kw in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        groups = ds.get(groups_kw)
        if groups:
            seq = groups[0].get(sequence)
            if seq:
                return seq[0]
    return None


def _enhanced(ds: Any) -> dict[str, Any]:
    """Values of an enhanced MR file: functional groups and the Enhanced MR Image module."""
    out: dict[str, Any] = {}
    timing = _frame_item(ds, "MRTimingAndRelatedParametersSequence")
    if timing is not None:
        out["tr"], out["flip"] = _time(timing.get("RepetitionTime")), _number(timing.get("FlipAngle"))
    echo = _frame_item(ds, "MREchoSequence")
    if echo is not None:
        out["te"] = _time(echo.get("EffectiveEchoTime"))
    modifier = _frame_item(ds, "MRModifierSequence")
    seq: list[str] = []
    if modifier is not None and str(modifier.get("InversionRecovery", "")).upper() == "YES":
        seq.append("IR")
        out["ti"] = _time(modifier.get("InversionTimes"))
    diffusion = _frame_item(ds, "MRDiffusionSequence")
    if diffusion is not None:
        out["b_value"] = _number(diffusion.get("DiffusionBValue"))
    pulse = str(ds.get("EchoPulseSequence", "") or "").upper()
    seq += {"SPIN": ["SE"], "GRADIENT": ["GR"], "BOTH": ["SE", "GR"]}.get(pulse, [])
    if str(ds.get("EchoPlanarPulseSequence", "") or "").upper() == "YES":
        seq.append("EP")
    out["sequence"] = tuple(seq)
    frame_type = _frame_item(ds, "MRImageFrameTypeSequence")
    contrast = ds.get("AcquisitionContrast") or (frame_type.get("AcquisitionContrast")
                                                 if frame_type is not None else None)
    out["contrast"] = str(contrast or "").strip().upper()
    if ds.get("ContrastBolusAgentSequence"):
        out["agent"] = "yes"
    return out


def read_acquisition(ds: Any) -> MRAcquisition | None:
    """The acquisition parameters of an MR data set (pydicom Dataset); None for other modalities.
    Unreadable or absurd values count as absent."""
    if str(ds.get("Modality", "") or "").strip().upper() != "MR":
        return None
    values: dict[str, Any] = {
        "sequence": _codes(ds.get("ScanningSequence")),
        "variant": _codes(ds.get("SequenceVariant")),
        "tr": _time(ds.get("RepetitionTime")), "te": _time(ds.get("EchoTime")),
        "ti": _time(ds.get("InversionTime")), "flip": _number(ds.get("FlipAngle")),
        "field_t": _number(ds.get("MagneticFieldStrength")),
        "agent": str(ds.get("ContrastBolusAgent", "") or "").strip(),
        "image_type": _codes(ds.get("ImageType")),
        "b_value": _number(ds.get("DiffusionBValue")),
    }
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        for key, value in _enhanced(ds).items():
            if value not in (None, "", ()) and not values.get(key):
                values[key] = value
    try:
        return MRAcquisition(**values)
    except (TypeError, ValueError):  # pragma: no cover - values are normalised above
        return MRAcquisition()

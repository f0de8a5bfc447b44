"""Input validation: is this image something the model can be given?  (numpy only)

``check_input`` raises ``InputError`` (message a radiologist can act on) for input that cannot be
classified at all, and returns a list of warnings for input that can, but should be read with care.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from inference.errors import InputError

MIN_SIDE = 16
MAX_SIDE = 4096


def _check_plane(a: np.ndarray, what: str, want_ndim: int) -> list[str]:
    warnings: list[str] = []
    if a.ndim == 3 and want_ndim == 2 and a.shape[-1] in (3, 4):
        raise InputError(f"{what} is a colour (RGB) image {a.shape}; the model needs a greyscale "
                         "slice in physical units (a secondary capture or screenshot cannot be classified)")
    if a.ndim != want_ndim:
        shape_name = "(rows, columns)" if want_ndim == 2 else "(slices, rows, columns)"
        raise InputError(f"{what} has shape {a.shape}; expected one {shape_name} array")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise InputError(f"{what} holds {a.dtype} values; expected real pixel values")
    side = a.shape[-2:]
    if min(side) < MIN_SIDE:
        raise InputError(f"{what} is only {side[0]} x {side[1]} pixels; at least {MIN_SIDE} pixels per "
                         "side are needed (is this a localiser or an icon?)")
    if max(side) > MAX_SIDE:
        raise InputError(f"{what} is {side[0]} x {side[1]} pixels; images above {MAX_SIDE} pixels per "
                         "side are not supported (downsample it first)")
    finite = np.isfinite(a)
    if not finite.any():
        raise InputError(f"{what} contains no valid pixel values (all NaN or infinite)")
    if not finite.all():
        warnings.append(f"{what}: {int((~finite).sum())} invalid (NaN/infinite) pixels were replaced "
                        "by the lowest valid value")
    vals = a[finite]
    if float(vals.max()) - float(vals.min()) <= 1e-6 * max(1.0, abs(float(vals.max()))):
        warnings.append(f"{what} is uniform (a single value everywhere): there is nothing to classify, "
                        "the result is meaningless")
    return warnings


def check_input(spec: Any, image: Any, modality: str | None = None, orientation: str | None = None,
                body_part: str | None = None) -> list[str]:
    """Validate an image's form for ``spec``; raise InputError if unusable, else return warnings.

    Whether the image lies in the model's domain (modality, body part, plane, values) is not
    checked here but by ``inference.domain.domain_reasons`` (the arguments are accepted for
    callers that pass them; the Classifier gives them to both).

    image: (H, W) slice for slice models, {plane: (S, H, W)} for the knee exam model.
    modality: DICOM modality ("MR", "CT", ...); orientation: "axial" / "sagittal" / "coronal"
    of a 2D slice; body_part: DICOM BodyPartExamined.
    """
    label = spec.name
    warnings: list[str] = []
    if spec.level == "exam":
        if not isinstance(image, Mapping):
            raise InputError(f"The {label} model reads a whole exam ({', '.join(spec.planes)} stacks), "
                             "not a single slice; give it the exam's series by plane")
        if not image:
            raise InputError(f"The {label} model needs at least one of the planes {', '.join(spec.planes)}")
        unknown = [p for p in image if p not in spec.planes]
        if unknown:
            raise InputError(f"The {label} model knows the planes {', '.join(spec.planes)}; got {unknown}")
        for plane, stack in image.items():
            warnings += _check_plane(np.asarray(stack), f"the {plane} stack", 3)
        missing = [p for p in spec.planes if p not in image]
        if missing:
            warnings.append(f"planes not given: {', '.join(missing)}; the result uses "
                            f"{', '.join(p for p in spec.planes if p in image)} only and is less reliable")
        return warnings
    if isinstance(image, Mapping):
        raise InputError(f"The {label} model reads single slices, not a multi-plane exam")
    a = np.asarray(image)
    warnings += _check_plane(a, "the slice", 2)
    return warnings

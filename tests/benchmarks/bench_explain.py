"""Explanation speed: SliceWise Grad-CAM, HiResCAM and occlusion against pytorch-grad-cam and Captum.

HiResCAM: the same models, layers and input as Grad-CAM, against pytorch-grad-cam's ``HiResCAM``
(interleaved medians of 7 rounds; the ratio is pytorch-grad-cam's time / SliceWise's).

Grad-CAM: VGG-16 (target ``features.29``, the last conv block's ReLU) and ResNet-50
(``layer4``), random weights, 2 classes, one 3x224x224 image; median of 7 timed rounds after a
warm-up, the methods called in turn within each round so that load from other processes
hits all of them alike. Occlusion: ResNet-18, 224x224, batch 32 for every method; SliceWise's
progressive run (32/16 then 16/8, ``refine="full"`` and ``"adaptive"``), its single 16/8 pass,
and Captum ``Occlusion`` 16/8 (one call each: they take tens of seconds on 2 cores). SliceWise's
rows use the product path, ``inference.explain.fast_forward`` (the BatchNorm-folded inference copy
that ``Classifier.forward_scores`` runs, its one-off build time included); Captum gets the plain
module, as a user would call it; SliceWise with the plain module is reported too.

Run: ``python tests/benchmarks/bench_explain.py``. ``main()`` returns the figures and ratios.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from inference.explain.fast_forward import fast_forward, fast_forward_info  # noqa: E402
from inference.explain.gradcam import gradcam  # noqa: E402
from inference.explain.hirescam import hirescam  # noqa: E402
from inference.explain.occlusion import iter_occlusion, occlusion  # noqa: E402


def _interleaved_medians(methods: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median time of each method, calling them in turn each round (so load changes hit all)."""
    for fn in methods.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeats):
        for name, fn in methods.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _bench_gradcam(name: str, model: torch.nn.Module, layer_name: str, repeats: int) -> dict:
    from captum.attr import LayerGradCam
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    layer = dict(model.named_modules())[layer_name]

    def forward() -> None:
        with torch.inference_mode():
            model(x)

    captum = LayerGradCam(model, layer)
    pgc = GradCAM(model=model, target_layers=[layer])
    targets = [ClassifierOutputTarget(1)]
    methods = {
        "forward_s": forward,
        "slicewise_s": lambda: gradcam(model, x, layer_name, 1),
        "captum_s": lambda: captum.attribute(x, target=1, relu_attributions=True),
        "pytorch_grad_cam_s": lambda: pgc(input_tensor=x, targets=targets),
    }
    try:
        figures = _interleaved_medians(methods, repeats)
    finally:
        pgc.activations_and_grads.release()
    model.zero_grad(set_to_none=True)
    figures["vs_pytorch_grad_cam_speedup"] = figures["pytorch_grad_cam_s"] / figures["slicewise_s"]
    figures["vs_captum_time_ratio"] = figures["slicewise_s"] / figures["captum_s"]
    figures["vs_forward_time_ratio"] = figures["slicewise_s"] / figures["forward_s"]
    return {f"gradcam_{name}_{k}": v for k, v in figures.items()}


def _bench_hirescam(name: str, model: torch.nn.Module, layer_name: str, repeats: int) -> dict:
    from pytorch_grad_cam import HiResCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    layer = dict(model.named_modules())[layer_name]
    pgc = HiResCAM(model=model, target_layers=[layer])
    targets = [ClassifierOutputTarget(1)]
    methods = {
        "slicewise_s": lambda: hirescam(model, x, layer_name, 1),
        "pytorch_grad_cam_s": lambda: pgc(input_tensor=x, targets=targets),
    }
    try:
        figures = _interleaved_medians(methods, repeats)
    finally:
        pgc.activations_and_grads.release()
    model.zero_grad(set_to_none=True)
    figures["vs_pytorch_grad_cam_speedup"] = figures["pytorch_grad_cam_s"] / figures["slicewise_s"]
    return {f"hirescam_{name}_{k}": v for k, v in figures.items()}


def _progressive_times(model, x, refine: str, batch: int, fast: bool = True) -> tuple[float, float, int]:
    start = time.perf_counter()
    coarse = final = 0.0
    done = 0
    forward = fast_forward(model) if fast else model
    for step in iter_occlusion(forward, x, 1, passes=((32, 16), (16, 8)), batch_size=batch, refine=refine):
        elapsed = time.perf_counter() - start
        if step.pass_index == 0:
            coarse = elapsed
        if step.final:
            final, done = elapsed, step.done
    return coarse, final, done


def _bench_occlusion(batch: int) -> dict:
    import torchvision
    from captum.attr import Occlusion

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None, num_classes=2).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.inference_mode():
        model(x.expand(batch, -1, -1, -1).contiguous())  # warm-up both memory layouts
        model(x.expand(batch, -1, -1, -1).contiguous(memory_format=torch.channels_last))

    start = time.perf_counter()
    Occlusion(model).attribute(x, sliding_window_shapes=(3, 16, 16), strides=(3, 8, 8), baselines=0.0,
                               target=1, perturbations_per_eval=batch)
    captum_s = time.perf_counter() - start

    start = time.perf_counter()
    occlusion(model, x, 1, patch=16, stride=8, baseline=0.0, batch_size=batch)
    plain_single_s = time.perf_counter() - start
    plain_coarse_s, plain_full_s, _ = _progressive_times(model, x, "full", batch, fast=False)

    start = time.perf_counter()
    fused = fast_forward(model)  # first call: builds the fused copy (counted here)
    build_s = time.perf_counter() - start
    with torch.inference_mode():
        fused(x.expand(batch, -1, -1, -1).contiguous(memory_format=torch.channels_last))  # warm-up
    start = time.perf_counter()
    occlusion(fast_forward(model), x, 1, patch=16, stride=8, baseline=0.0, batch_size=batch)
    single_s = time.perf_counter() - start + build_s
    coarse_s, full_s, full_n = _progressive_times(model, x, "full", batch)
    coarse_s, full_s = coarse_s + build_s, full_s + build_s
    _, adaptive_s, adaptive_n = _progressive_times(model, x, "adaptive", batch)
    adaptive_s += build_s
    return {
        "occlusion_fast_forward_fused_pairs": fast_forward_info(model).pairs,
        "occlusion_fast_forward_build_s": build_s,
        "occlusion_plain_single_16_8_s": plain_single_s,
        "occlusion_plain_coarse_32_16_s": plain_coarse_s,
        "occlusion_plain_progressive_full_s": plain_full_s,
        "occlusion_plain_single_vs_captum": plain_single_s / captum_s,
        "occlusion_plain_coarse_vs_captum": plain_coarse_s / captum_s,
        "occlusion_plain_progressive_full_vs_captum": plain_full_s / captum_s,
        "occlusion_captum_16_8_s": captum_s,
        "occlusion_single_16_8_s": single_s,
        "occlusion_coarse_32_16_s": coarse_s,
        "occlusion_progressive_full_s": full_s,
        "occlusion_progressive_full_images": full_n,
        "occlusion_progressive_adaptive_s": adaptive_s,
        "occlusion_progressive_adaptive_images": adaptive_n,
        "occlusion_coarse_vs_captum": coarse_s / captum_s,
        "occlusion_single_vs_captum": single_s / captum_s,
        "occlusion_progressive_full_vs_captum": full_s / captum_s,
        "occlusion_progressive_adaptive_vs_captum": adaptive_s / captum_s,
    }


def main() -> dict:
    """Run every comparison once; print a table; return the figures (seconds, ratios)."""
    import torchvision

    threads = max(1, os.cpu_count() or 1)
    torch.set_num_threads(threads)
    results: dict = {"threads": threads, "torch": torch.__version__}
    torch.manual_seed(0)
    vgg = torchvision.models.vgg16(weights=None, num_classes=2).eval()
    results.update(_bench_gradcam("vgg16", vgg, "features.29", repeats=7))
    results.update(_bench_hirescam("vgg16", vgg, "features.29", repeats=7))
    del vgg
    resnet = torchvision.models.resnet50(weights=None, num_classes=2).eval()
    results.update(_bench_gradcam("resnet50", resnet, "layer4", repeats=7))
    results.update(_bench_hirescam("resnet50", resnet, "layer4", repeats=7))
    del resnet
    results.update(_bench_occlusion(batch=32))
    results["load_average_1min"] = os.getloadavg()[0]
    _print_table(results)
    return results


def _print_table(r: dict) -> None:
    print(f"SliceWise explanation benchmark: {r['threads']} threads, torch {r['torch']}, "
          f"1-min load {r['load_average_1min']:.1f}")
    print(f"{'Grad-CAM, 1x3x224x224':<34}{'forward':>9}{'SliceWise':>11}{'Captum':>9}{'pgc':>9}"
          f"{'pgc/SW':>8}{'SW/Captum':>11}")
    for name in ("vgg16", "resnet50"):
        p = f"gradcam_{name}_"
        print(f"{name:<34}{r[p + 'forward_s']:>8.3f}s{r[p + 'slicewise_s']:>10.3f}s{r[p + 'captum_s']:>8.3f}s"
              f"{r[p + 'pytorch_grad_cam_s']:>8.3f}s{r[p + 'vs_pytorch_grad_cam_speedup']:>7.2f}x"
              f"{r[p + 'vs_captum_time_ratio']:>10.2f}x")
    print(f"{'HiResCAM, 1x3x224x224':<34}{'SliceWise':>11}{'pgc':>9}{'pgc/SW':>8}")
    for name in ("vgg16", "resnet50"):
        p = f"hirescam_{name}_"
        print(f"{name:<34}{r[p + 'slicewise_s']:>10.3f}s{r[p + 'pytorch_grad_cam_s']:>8.3f}s"
              f"{r[p + 'vs_pytorch_grad_cam_speedup']:>7.2f}x")
    print(f"{'Occlusion, ResNet-18 224, batch 32':<44}{'time':>8}{'vs Captum 16/8':>16}")
    print(f"(SW = product path: BN-folded fast_forward, {r['occlusion_fast_forward_fused_pairs']} BN folded, "
          f"build {r['occlusion_fast_forward_build_s']:.2f}s counted in each SW row; Captum: plain module)")
    rows = [
        ("Captum Occlusion 16/8 (plain module)", "occlusion_captum_16_8_s", None),
        ("SliceWise plain module: occlusion() 16/8", "occlusion_plain_single_16_8_s",
         "occlusion_plain_single_vs_captum"),
        ("SliceWise plain module: coarse 32/16", "occlusion_plain_coarse_32_16_s",
         "occlusion_plain_coarse_vs_captum"),
        ("SliceWise plain module: full 16/8 (total)", "occlusion_plain_progressive_full_s",
         "occlusion_plain_progressive_full_vs_captum"),
        ("SliceWise occlusion() 16/8", "occlusion_single_16_8_s", "occlusion_single_vs_captum"),
        ("SliceWise progressive: coarse 32/16", "occlusion_coarse_32_16_s", "occlusion_coarse_vs_captum"),
        ("SliceWise progressive: full 16/8 (total)", "occlusion_progressive_full_s",
         "occlusion_progressive_full_vs_captum"),
        ("SliceWise progressive: adaptive 16/8 (total)", "occlusion_progressive_adaptive_s",
         "occlusion_progressive_adaptive_vs_captum"),
    ]
    for label, key, ratio in rows:
        tail = f"{r[ratio]:>15.2f}x" if ratio else f"{'1.00x':>16}"
        print(f"{label:<44}{r[key]:>7.2f}s{tail}")


if __name__ == "__main__":
    main()

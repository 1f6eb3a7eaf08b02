"""The benchmark runs on the CPU and prints every figure it promises, with sane values."""

import json
import re

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from pipeline.dream.objectives import layer_l2
from pipeline.models.network import load_model
from pipeline.tools import bench


def figure(out: str, label: str) -> float:
    """The number printed after `label` at the start of a line."""
    return float(re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)", out, re.MULTILINE).group(1))


@pytest.mark.slow
@pytest.mark.parametrize("matrix_units", [False, True], ids=["cpu-without-bf16-units", "cpu-with-amx"])
def test_bench_prints_its_figures(capsys, monkeypatch, matrix_units):
    """On any CPU: --precision auto picks bf16 where the CPU has bf16 matrix units (Intel AMX), fp32
    elsewhere, and the yardstick is a matrix product in the dtype the dream ran in."""
    from pipeline.dream import engine

    monkeypatch.setattr(engine, "cpu_multiplies_bf16_natively", lambda: matrix_units)
    monkeypatch.setitem(bench.MATMUL_SIDES, "cpu", (256, 512))  # a quick yardstick; the real one is larger
    assert bench.main(["--size", "96x80", "--frames", "1", "--iterations", "1", "--octaves", "1",
                       "--model", "efficientnet_lite0", "--profile", "5", "--memory", "96x80"]) == 0
    out = capsys.readouterr().out
    for label in ("machine", "versions", "workload", "top-octave iteration", "end to end", "frames/s",
                  "eager fp32 reference", "renderer is", "costliest operations", "convolution"):
        assert label in out
    milliseconds, gflop = figure(out, "top-octave iteration"), figure(out, "arithmetic")
    dtype = "bfloat16" if matrix_units else "float32"
    assert re.search(r"^\s*(\w+) matmul", out, re.MULTILINE).group(1) == dtype
    rate, matmul, share = figure(out, "achieved"), figure(out, f"{dtype} matmul"), figure(out, "share of matmul")
    assert 0.05 < gflop < 1  # efficientnet_lite0 at 96x80: about 0.1 GFLOP forward and as much backward
    assert rate == pytest.approx(gflop / milliseconds * 1e3, rel=0.05, abs=0.01)  # as printed, rounded
    printed = 0.05 + 0.5 / matmul  # share's last digit, and what rate's (0.01 GFLOP/s) can move it
    assert 0.5 < matmul < 1e5 and share == pytest.approx(100 * rate / matmul, rel=0.05, abs=printed)
    peak, before = (float(v) for v in re.search(r"peak RSS, 96x80 frame\s+([\d.]+) GiB\s+\(([\d.]+) GiB", out).groups())
    assert 0.05 < before <= peak < 16


def test_the_arithmetic_is_the_forward_pass_and_the_input_gradient_only():
    """Every convolution's input gradient costs what its forward pass does, and no weight gradient is counted."""
    net = load_model("googlenet", "cpu", "random")
    objective = layer_l2("inception3b")
    with FlopCounterMode(display=False) as forward, torch.no_grad():
        net(torch.rand(1, 3, 64, 96), objective.layers)
    assert bench.iteration_flops(net, objective, 64, 96) == 2 * forward.get_total_flops() > 0


@pytest.mark.slow
def test_bench_json_is_one_object_with_the_figures(capsys, monkeypatch):
    """--json prints only one JSON object, whose figures agree with each other."""
    monkeypatch.setitem(bench.MATMUL_SIDES, "cpu", (128, 256))
    assert bench.main(["--json", "--size", "64x48", "--frames", "1", "--iterations", "1", "--octaves", "1",
                       "--model", "googlenet", "--weights", "random", "--layer", "inception3a",
                       "--reference-frames", "1"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["dtype"] in ("float32", "bfloat16") and figures["width"] == 64 and figures["height"] == 48
    assert 0 < figures["gflop"] < 1 and figures["iteration_ms"] > 0 and figures["matmul_side"] in (128, 256)
    assert figures["achieved_gflops"] == pytest.approx(figures["gflop"] / figures["iteration_ms"] * 1e3)
    assert figures["share"] == pytest.approx(figures["achieved_gflops"] / figures["matmul_gflops"])
    assert figures["speedup"] == pytest.approx(figures["reference_s_per_frame"] / figures["s_per_frame"])
    assert 0.9 < figures["gradient_cosine"] <= 1.0 + 1e-6

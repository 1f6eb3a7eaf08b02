"""The benchmark runs on the CPU and prints every figure it promises."""

from pipeline.tools import bench


def test_bench_prints_its_figures(capsys):
    assert bench.main(["--size", "96x80", "--frames", "1", "--iterations", "1", "--octaves", "1",
                       "--model", "efficientnet_lite0", "--profile", "5"]) == 0
    out = capsys.readouterr().out
    for label in ("machine", "versions", "workload", "top-octave iteration", "end to end", "frames/s",
                  "eager fp32 reference", "renderer is", "costliest operations", "convolution"):
        assert label in out

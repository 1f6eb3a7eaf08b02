"""The library behaves: a render changes nothing process-wide, speed settings are applied only
when asked (the command asks), messages go to the `dreamzoom` logger, and a network is loaded
once per process."""

import ast
import ctypes
import logging
import platform
import resource
import signal

import numpy as np
import pytest
import torch
from PIL import Image

import pipeline
from pipeline.cli.messages import library_messages
from pipeline.dream import runtime
from pipeline.models import network
from pipeline.session.signals import StopRequest

from tests.helpers import ROOT
from .test_api import TINY


def frames_in(folder) -> list[np.ndarray]:
    return [np.asarray(Image.open(path)) for path in sorted(folder.glob("*.png"))]


def test_a_render_changes_nothing_process_wide(make_scene, reuse_inception, tmp_path, monkeypatch):
    opened, configured = [], []
    real_cdll = ctypes.CDLL
    monkeypatch.setattr(ctypes, "CDLL", lambda name, *args, **kwargs: opened.append(name) or real_cdll(
        name, *args, **kwargs))
    monkeypatch.setattr(runtime, "keep_freed_memory", lambda: configured.append("mallopt"))
    monkeypatch.setattr(runtime, "configure_runtime", lambda *args, **kwargs: configured.append("configure"))
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    threads, rng = torch.get_num_threads(), torch.get_rng_state()
    logger = logging.getLogger("dreamzoom")
    handlers, level, root_handlers = list(logger.handlers), logger.level, list(logging.getLogger().handlers)

    pipeline.render(make_scene(TINY), out=tmp_path / "frames", device="cpu")

    assert len(frames_in(tmp_path / "frames")) == 4
    assert not configured and None not in opened, "the C library's allocator was told something"
    assert torch.backends.cudnn.benchmark is False
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), rng)
    assert (logger.handlers, logger.level, logging.getLogger().handlers) == (handlers, level, root_handlers)


def test_configure_runtime_applies_the_speed_settings(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    threads = torch.get_num_threads()
    try:
        pipeline.configure_runtime(threads=1)
        assert torch.backends.cudnn.benchmark is True and torch.get_num_threads() == 1
        pipeline.configure_runtime()  # again: nothing more, threads as they were set
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_configured_the_process_keeps_freed_memory_so_a_step_touches_no_fresh_pages():
    pipeline.configure_runtime()

    def faults_of_a_64_mib_activation() -> int:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        torch.ones(16 * 2**20)
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    for _ in range(3):  # the heap grows to hold it
        faults_of_a_64_mib_activation()
    assert max(faults_of_a_64_mib_activation() for _ in range(3)) < 100  # by default: 16384 faults of 4 KiB
    assert runtime.keep_freed_memory()


def test_the_command_applies_the_speed_settings(write_scene, command, monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    scene = write_scene("""
        size: [96, 80]
        frames: 2
        start: logo.png
        dream: {octaves: 1, iterations: 1}
        segments:
          - frames: [0, 1]
            layers: edges
        """)
    assert command(scene, "--device", "cpu", "--quiet", "--dry-run").returncode == 0
    assert torch.backends.cudnn.benchmark is False  # a dry run renders nothing
    assert command(scene, "--device", "cpu", "--quiet").returncode == 0
    assert torch.backends.cudnn.benchmark is True


def test_two_renders_load_the_network_once_and_dream_the_same(make_scene, tmp_path, monkeypatch):
    loads = []
    load_model = network.load_model
    monkeypatch.setattr(network, "load_model", lambda *args, **kwargs: loads.append(args) or load_model(
        *args, **kwargs))
    scene = make_scene({**TINY, "model": "efficientnet_lite0", "weights": "random", "seed": 5})
    pipeline.models.clear_cache()
    first = pipeline.render(scene, out=tmp_path / "first", device="cpu")
    again = pipeline.render(scene, out=tmp_path / "again", device="cpu")
    assert len(loads) == 1, "the second render loaded the network again"
    assert first.frames == again.frames == 4
    assert all(np.array_equal(a, b) for a, b in zip(frames_in(first.path), frames_in(again.path), strict=True))

    pipeline.models.clear_cache()
    pipeline.render(scene, out=tmp_path / "cleared", device="cpu")
    assert len(loads) == 2
    assert all(np.array_equal(a, b) for a, b in zip(frames_in(first.path), frames_in(tmp_path / "cleared"),
                                                    strict=True))


def test_the_cache_is_bounded_and_knows_a_weights_file_by_its_contents(monkeypatch, tmp_path):
    from pipeline.models import cache

    loads = []
    monkeypatch.setattr(network, "load_model", lambda name, device, weights, seed: loads.append(seed) or object())
    monkeypatch.setattr(cache, "_kept", type(cache._kept)())
    for seed in range(cache.NETWORKS_KEPT + 1):
        cache.network("googlenet", "cpu", "random", seed)
    cache.network("googlenet", "cpu", "random", cache.NETWORKS_KEPT)  # the most recent is kept
    cache.network("googlenet", "cpu", "random", 0)  # the oldest is not
    assert loads == [*range(cache.NETWORKS_KEPT + 1), 0] and len(cache._kept) == cache.NETWORKS_KEPT
    cache.network("googlenet", "cpu", "pretrained", 1)
    cache.network("googlenet", "cpu", "pretrained", 2)  # the seed draws random weights only
    assert loads[-1:] == [1]
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"one")
    cache.network("googlenet", "cpu", weights, 0)
    cache.network("googlenet", "cpu", str(weights), 0)
    assert len(loads) == 6
    weights.write_bytes(b"other")
    cache.network("googlenet", "cpu", weights, 0)
    assert len(loads) == 7, "a weights file that changed was not read again"


def test_library_messages_go_to_the_dreamzoom_logger(caplog):
    with caplog.at_level(logging.INFO, logger="dreamzoom"):
        StopRequest()._handle(signal.SIGTERM, None)
    (record,) = caplog.records
    assert record.name.startswith("dreamzoom.")
    assert record.getMessage() == "\nSIGTERM: stopping after this frame (again to stop at once)..."


def test_the_command_shows_library_messages_as_plain_lines(capsys):
    logger = logging.getLogger("dreamzoom.session")
    with library_messages():
        logger.warning("%s: dreaming again", "out.mp4")
        logger.info("noted")
        logger.debug("not shown")
    assert capsys.readouterr().err == "out.mp4: dreaming again\nnoted\n"
    assert logging.getLogger("dreamzoom").handlers == [] and logging.getLogger("dreamzoom").level == logging.NOTSET


def test_library_code_neither_prints_nor_writes_to_stderr():
    """Only the command (cli/) and the tools, which are commands too, speak to the user directly."""
    package = ROOT / "pipeline"
    found = []
    for path in package.rglob("*.py"):
        relative = path.relative_to(package)
        if relative.parts[0] in ("cli", "tools") or relative.name in ("__main__.py", "bench.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                found.append(f"{relative}:{node.lineno} print")
            if isinstance(node, ast.Attribute) and node.attr in ("stderr", "stdout") and getattr(
                    node.value, "id", None) == "sys":
                found.append(f"{relative}:{node.lineno} sys.{node.attr}")
    assert not found

"""The CUDA path: captured graphs, bf16, tiles under a memory cap, no host waits.

These run only where a CUDA GPU is visible (they are skipped elsewhere); the
same math is checked on the CPU by test_engine.py.
"""

import imageio.v3 as iio
import pytest
import torch

from pipeline.dream.core import pixel_gradient, tile_grid
from pipeline.dream.engine import DreamEngine
from pipeline.image.pixels import cover_fit, device_pixels, to_tensor
from pipeline.session.session import Dreamer, render
from pipeline.models.network import load_model
from pipeline.dream.objectives import layer_l2
from pipeline.dream.settings import DreamSettings
from pipeline.plan import make_plan
from pipeline.scene import load_scene
from tests.helpers import ROOT

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

CAT = ROOT / "scenes" / "samples" / "cat.png"
LAYER = "inception4c"


@pytest.fixture(scope="module")
def googlenet():
    return load_model("googlenet", "cuda", weights="random")


def cat(width, height):
    return to_tensor(cover_fit(CAT, width, height), "cuda")


def value(net, image, objective):
    with torch.no_grad():
        return float(objective(net(image, objective.layers)))


def test_captured_graph_replays_the_eager_steps(googlenet):
    image = cat(640, 360)
    objective = layer_l2(LAYER)
    one_step = DreamSettings(octaves=1, octave_scale=1.0, iterations=1, step=0.004, jitter=16, smooth=0.5)
    graphed = DreamEngine(googlenet, "cuda", graphs=True)
    eager = DreamEngine(googlenet, "cuda", graphs=False)
    for seed in (0, 1):  # the second call replays the graph captured by the first
        ours = graphed.dream(image, {objective: 1.0}, one_step, torch.Generator().manual_seed(seed))
        theirs = eager.dream(image, {objective: 1.0}, one_step, torch.Generator().manual_seed(seed))
        assert float((ours - theirs).abs().max()) < 2e-3  # a fraction of the 0.004 step
    assert graphed.graphs and len(graphed._captured) == 1


def test_bf16_gradient_follows_fp32_and_the_dream_gains_as_much(googlenet):
    image = cat(1920, 1080)
    objective = layer_l2(LAYER)
    whole = tile_grid(1080, 1920, None)
    engine = DreamEngine(googlenet, "cuda")
    exact = pixel_gradient(googlenet, image, objective, whole)
    fast = pixel_gradient(engine.net, image, objective, whole, engine.precision)
    # Random weights give a rougher gradient field than pretrained ones (0.96 on the CPU test), so a
    # bit lower here; the dream-level check below is the one that matters.
    assert float(torch.nn.functional.cosine_similarity(fast.flatten(), exact.flatten(), dim=0)) > 0.9

    settings = DreamSettings(octaves=4, octave_scale=1.8, iterations=10, step=0.004, jitter=16, smooth=0.5)
    before = value(googlenet, image, objective)
    fp32 = DreamEngine(googlenet, "cuda", precision="fp32")
    gains = [value(googlenet, e.dream(image, {objective: 1.0}, settings, torch.Generator().manual_seed(0)),
                   objective) - before for e in (engine, fp32)]
    assert gains[0] == pytest.approx(gains[1], rel=0.2)


def test_crossfades_reuse_the_captured_graph(googlenet):
    image = cat(320, 192)
    a, b = layer_l2("inception3b"), layer_l2(LAYER)
    settings = DreamSettings(octaves=2, octave_scale=1.4, iterations=3, step=0.004, jitter=16, smooth=0.5)
    engine = DreamEngine(googlenet, "cuda")
    outputs = [engine.dream(image, {a: 1 - w, b: w}, settings, torch.Generator().manual_seed(0))
               for w in (0.0, 0.5, 1.0)]
    assert len(engine._captured) == 1
    assert not torch.equal(outputs[0], outputs[2])


def test_fused_max_pool_equals_pytorch_on_the_gpu():
    from pipeline.models.fast.pool_kernels import fused_max_pool
    from tests.test_faster_layers import zoo_windows

    for window in zoo_windows():
        for dtype in (torch.float32, torch.bfloat16):
            data = torch.randn(1, 64, 135, 241, device="cuda").clamp(min=-0.5)  # some ties, as after a ReLU
            x = data.to(dtype).contiguous(memory_format=torch.channels_last).requires_grad_(True)
            exact = x.detach().float().requires_grad_(True)
            ours = fused_max_pool(x, window)
            theirs = torch.nn.functional.max_pool2d(exact, window.kernel, window.stride, window.padding,
                                                    ceil_mode=window.ceil_mode)
            grad = torch.randn(theirs.shape, device="cuda").to(dtype)
            ours.backward(grad)
            theirs.backward(grad.float())
            assert torch.equal(ours, theirs.to(dtype)), window
            torch.testing.assert_close(x.grad, exact.grad.to(dtype), msg=str(window))


def test_faster_layers_are_raced_once_per_shape_and_the_dream_is_unchanged(googlenet):
    from pipeline.models.fast.racing import race_results

    image = cat(640, 360)
    objective = layer_l2(LAYER)
    one_step = DreamSettings(octaves=1, octave_scale=1.0, iterations=1, step=0.004, jitter=16, smooth=0.5)
    raced = DreamEngine(googlenet, "cuda")
    plain = DreamEngine(googlenet, "cuda", fast_layers=False)
    counts = []
    for seed in (0, 1):
        ours = raced.dream(image, {objective: 1.0}, one_step, torch.Generator().manual_seed(seed))
        theirs = plain.dream(image, {objective: 1.0}, one_step, torch.Generator().manual_seed(seed))
        # The same step up to bf16 rounding (which can move a max pool's choice, so compared as a whole)
        cosine = torch.nn.functional.cosine_similarity((ours - image).flatten(), (theirs - image).flatten(), dim=0)
        assert float(cosine) > 0.9
        counts.append(race_results(raced.net))
    assert counts[0]["fused max pool"][1] >= 8  # googlenet's 8 pools up to inception4c
    assert counts[0]["stem over 2x2 blocks"][1] >= 1
    assert counts[0]["merged branch convolutions"][1] >= 5  # inception3a to inception4c
    assert counts[1] == counts[0]  # each layer and shape raced once


def test_memory_cap_tiles_a_4k_frame_and_holds(googlenet):
    cap = 3.0
    image = torch.rand(1, 3, 2160, 3840, device="cuda")
    objective = layer_l2(LAYER)
    engine = DreamEngine(googlenet, "cuda", max_vram_gib=cap)
    assert engine.tile_pixels_for(objective, 2160, 3840) is not None
    settings = DreamSettings(octaves=2, octave_scale=1.8, iterations=2, step=0.004, jitter=16, smooth=0.5)
    engine.dream(image, {objective: 1.0}, settings, torch.Generator().manual_seed(0))  # capture
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    out = engine.dream(image, {objective: 1.0}, settings, torch.Generator().manual_seed(1))
    torch.cuda.synchronize()
    assert torch.cuda.max_memory_allocated() <= cap * 2**30
    assert value(googlenet, out, objective) > value(googlenet, image, objective)


SCENE = """
output: out.mp4
size: [640, 360]
fps: 24
frames: 8
start: cat.png
model: googlenet
weights: random
dream: {octaves: 3, octave_scale: 1.8, iterations: 4, step: 0.004}
motion: {zoom: 1.03}
color: {strength: 0.15}
sharpen: {amount: 0.3}
segments:
  - frames: [0, 3]
    layers: [inception3b]
  - frames: [4, 7]
    layers: [inception4c]
    transition: 2
"""


def test_frames_after_set_up_never_wait_for_the_gpu(tmp_path, googlenet):
    """Once a scene's dreams are captured, a frame is queued without the host waiting for the GPU."""
    (tmp_path / "cat.png").write_bytes(CAT.read_bytes())
    (tmp_path / "scene.yaml").write_text(SCENE)
    scene = load_scene(tmp_path / "scene.yaml")
    plan = make_plan(scene, output=scene.output_path)
    dreamer = Dreamer(plan, googlenet, torch.device("cuda"))
    frames = dreamer.frames(stop=2)
    for _ in frames:
        pass
    at_frame_2 = dreamer.state()
    for _ in dreamer.frames():  # captures every dream the scene needs
        pass
    dreamer.restore(at_frame_2)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _, frame in dreamer.frames():
            pixels = torch.empty(device_pixels(frame).shape, dtype=torch.uint8, pin_memory=True)
            pixels.copy_(device_pixels(frame), non_blocking=True)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert dreamer.next_frame == 8


def test_render_on_the_gpu_writes_the_video(tmp_path):
    (tmp_path / "cat.png").write_bytes(CAT.read_bytes())
    (tmp_path / "scene.yaml").write_text(SCENE)
    scene = load_scene(tmp_path / "scene.yaml")
    plan = make_plan(scene, output=scene.output_path)
    result = render(scene, plan, scene.output_path, torch.device("cuda"), progress=False, checkpoint_every=3)
    frames = iio.imread(result.path)
    assert frames.shape == (8, 360, 640, 3)
    assert result.device == "cuda"

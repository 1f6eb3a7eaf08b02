"""deliver: one dream, every format. Each deliverable is a crop of the dream canvas at its own size,
cut after the dream and encoded by its own writer; the dream runs once per frame."""

import json
import math
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from pipeline.scene import SceneError
from tests.helpers import ROOT, small_scene

BADGE = ROOT / "scenes" / "badge.png"


def deliver_scene(frames: int = 4, **changes) -> dict:
    """A canvas of 96x96 cut into a 16:9, a 9:16 and a resampled square (a GIF)."""
    data = small_scene(frames, weights="random", size=[96, 96], **{"fps": 24, **changes})
    data.setdefault("deliver", [
        {"output": "out/wide.mp4", "size": [96, 54]},
        {"output": "out/tall.mp4", "size": [54, 96]},
        {"output": "out/square.gif", "size": [24, 24], "crop": [48, 48]},
    ])
    return data


def problems(make_scene, data: dict) -> str:
    with pytest.raises(SceneError) as raised:
        make_scene(data)
    return raised.value.render()


# ------------------------------------------------------------ the scene and the plan (no torch)

def test_the_canvas_holds_every_crop_at_full_resolution(make_scene):
    data = deliver_scene(deliver=[{"output": "a.mp4", "preset": "youtube"}, {"output": "b.mp4", "preset": "reels"}])
    del data["size"]
    assert make_scene(data).size == (1920, 1920)


def test_a_smaller_canvas_crops_the_largest_rect_of_each_shape_and_resamples():
    from pipeline.scene.deliver import crop_for, placed

    assert crop_for((1920, 1080), (100, 100)) == (100, 56)
    assert crop_for((1080, 1920), (100, 100)) == (56, 100)
    assert crop_for((40, 30), (100, 100)) == (40, 30)  # fits: its own size, no resampling
    assert crop_for((40, 30), (100, 100), (80, 60)) == (80, 60)
    assert placed((0.0, 1.0), (40, 30), (100, 100)) == (0, 70, True)  # kept inside the canvas
    assert placed((0.5, 0.5), (40, 30), (100, 100)) == (30, 35, False)


def test_focus_keyframes_move_the_crop_and_the_dry_run_says_where_it_is_clamped(make_scene):
    from pipeline.plan import describe, frame_records, make_plan
    from pipeline.plan.deliver import clamped_ranges

    scene = make_scene(deliver_scene(frames=11, deliver=[
        {"output": "tall.mp4", "size": [48, 96], "focus": {0: [0.0, 0.5], 10: [1.0, 0.5]}}]))
    plan = make_plan(scene)
    spec = plan.deliverables[0]
    lefts = [spec.crop_at(n, (96, 96))[0] for n in range(11)]
    assert lefts[0] == 0 and lefts[-1] == 48 and lefts == sorted(lefts) and lefts[5] == 24
    assert clamped_ranges(spec, (96, 96), 11) == [(0, 2), (8, 10)]
    text = describe(scene, plan)
    assert "48x96, crop 48x96" in text and "frames 0-2, 8-10" in text
    records = list(frame_records(plan))
    assert records[0]["crops"] == [[0, 0, 48, 96]] and records[0]["clamped"] == [True]
    assert records[5]["crops"] == [[24, 0, 48, 96]] and records[5]["clamped"] == [False]


def test_a_size_rounded_to_even_sides_is_cut_at_that_size_not_resampled(make_scene):
    from pipeline.plan import make_plan

    plan = make_plan(make_scene(deliver_scene(deliver=[{"output": "a.mp4", "size": [17, 17]}])))
    assert plan.deliverables[0].size == plan.deliverables[0].crop == (18, 18)


def test_a_preview_scales_the_canvas_and_every_deliverable_alike(make_scene):
    from pipeline.plan import make_plan

    data = deliver_scene(deliver=[{"output": "a.mp4", "preset": "youtube"}, {"output": "b.mp4", "preset": "reels"},
                                  {"output": "c.mp4", "preset": "feed-square"}])
    del data["size"]
    plan = make_plan(make_scene(data), preview=True, long_side=384)
    assert (plan.width, plan.height) == (384, 384)
    assert [d.size for d in plan.deliverables] == [(384, 216), (216, 384), (216, 216)]
    assert all(d.crop == d.size for d in plan.deliverables)


def test_the_timing_plot_draws_a_moving_crop(make_scene):
    from pipeline.plan import frame_records, make_plan
    from pipeline.tools.timing_plot import changing_values

    scene = make_scene(deliver_scene(frames=11, deliver=[
        {"output": "tall.mp4", "size": [48, 96], "focus": {0: [0.0, 0.5], 10: [1.0, 0.5]}},
        {"output": "wide.mp4", "size": [96, 54]}]))
    curves = changing_values(list(frame_records(make_plan(scene))))
    assert list(curves["crops 0 left"][[0, 5, 10]]) == [0, 24, 48]
    assert not any(name.startswith(("crops 1", "clamped")) for name in curves)  # still, or not a number


@pytest.mark.parametrize("item, where, words", [
    ({"output": "a.mp4", "preset": "shorts"}, "deliver.0.preset", "shorts takes at most 180 s"),
    ({"output": "a.mp4", "preset": "reels"}, "deliver.0.preset", "reels takes 23 to 60 fps"),
])
def test_preset_limits_are_refused_before_any_work(write_scene, command, item, where, words):
    data = deliver_scene(deliver=[item], fps=24 if "shorts" in words else 8)
    data.update(frames=24 * 200 if "shorts" in words else 4)
    data["segments"][0]["frames"] = [0, data["frames"] - 1]
    scene = write_scene(data)
    result = command(scene, "--device", "cpu")
    assert result.returncode == 2
    assert f"{scene}:" in result.stderr and where in result.stderr and words in result.stderr
    assert not (scene.parent / "a.mp4").exists()


def test_a_preset_item_inherits_the_preset_and_its_own_keys_win(make_scene):
    from pipeline.plan import make_plan
    from pipeline.session.session import scene_sink

    data = deliver_scene(deliver=[{"output": "a.mp4", "preset": "reels", "size": [54, 96]}])
    plan = make_plan(make_scene(data))
    spec = plan.deliverables[0]
    assert spec.size == (54, 96) and spec.safe == (0.14, 0.06, 0.35, 0.06)
    video = scene_sink(make_scene(data), plan, spec.output, range(4), spec).video
    assert (video.width, video.height, video.max_bitrate) == (54, 96, 25_000_000)
    youtube = deliver_scene(deliver=[{"output": "a.mp4", "preset": "youtube", "size": [96, 54]}])
    plan = make_plan(make_scene(youtube))
    video = scene_sink(make_scene(youtube), plan, plan.deliverables[0].output, range(4), plan.deliverables[0]).video
    assert video.max_bitrate == 8_000_000  # YouTube asks less at 24-30 fps


@pytest.mark.parametrize("change, where, words", [
    ({"focus": [float("nan"), 0.5]}, "deliver.0.focus", ""),
    ({"focus": [math.inf, 0.5]}, "deliver.0.focus", ""),
    ({"focus": [2, 0.5]}, "deliver.0.focus", "1"),
    ({"focus": ["t * 100", 0.5]}, "deliver.0.focus", "frame"),  # an expression that leaves 0..1
    ({"focus": {0: [0.5, 0.5], 99: [1, 1]}}, "deliver.0.focus.99", "past the last frame"),
    ({"size": [10 ** 9, 54]}, "deliver.0.size", "16384"),
    ({"size": "wide"}, "deliver.0.size", "[brackets]"),
    ({"size": []}, "deliver.0.size", "write 2 values in [brackets], got 0"),
    ({"crop": [96, 96]}, "deliver.0.crop", "would be stretched"),
    ({"crop": [192, 108]}, "deliver.0.crop", "larger than the canvas 96x96"),
    ({"preset": "youtub"}, "deliver.0.preset", "youtube"),
    ({"size": None}, "deliver.0", "give this deliverable a size"),
    ({"output": 3}, "deliver.0.output", ""),
    ({"output": "a.mov", "fade": {"in": math.nan}}, "deliver.0.fade.in", ""),
    ({"overlay": [{"image": "badge.png", "safe": "yes"}]}, "deliver.0.overlay.0.safe", "true or false"),
])
def test_hostile_values_are_refused_with_their_key(make_scene, change, where, words):
    data = deliver_scene(deliver=[{"output": "a.mp4", "size": [96, 54], **change}])
    data["deliver"][0] = {k: v for k, v in data["deliver"][0].items() if v is not None}
    message = problems(make_scene, data)
    assert where in message and words in message, message
    assert len(message.splitlines()) == 1, message  # one line per problem


def test_two_deliverables_with_one_output_or_an_output_that_is_an_input_are_refused(make_scene, tmp_path):
    twice = deliver_scene(deliver=[{"output": "same.mp4", "size": [96, 54]}, {"output": "./same.mp4", "size": [54, 96]}])
    assert "deliver.1.output: deliver.0 writes ./same.mp4 too" in problems(make_scene, twice)
    shutil.copy(ROOT / "scenes" / "pulse.m4a", tmp_path / "music.mp4")
    reads = deliver_scene(audio="music.mp4", deliver=[{"output": "music.mp4", "size": [96, 54]}])
    assert "deliver.0.output: music.mp4 is audio.file, which this render reads" in problems(make_scene, reads)
    both = deliver_scene(output="x.mp4")
    assert "output: a scene has output or deliver, not both" in problems(make_scene, both)
    neither = deliver_scene(deliver=[])
    del neither["size"]
    assert "size: this key is required" in problems(make_scene, neither)


@pytest.mark.parametrize("outputs, where, words", [
    (["", "b.mp4"], "deliver.0.output", "cannot be an output name"),
    (["b.mp4", "."], "deliver.1.output", "cannot be an output name"),
    (["a\0.mp4", "b.mp4"], "deliver.0.output", "cannot be an output name"),
    (["out/Wide.mp4", "out/wide.mp4"], "deliver.1.output", "only in case"),
    (["out/frames", "out/frames/x.mp4"], "deliver.1.output", "inside deliver.0's folder out/frames"),
])
def test_outputs_that_cannot_be_written_side_by_side_are_refused_with_their_item(make_scene, outputs, where, words):
    data = deliver_scene(deliver=[{"output": output, "size": [48, 48]} for output in outputs])
    message = problems(make_scene, data)
    assert where in message and words in message, message


def test_an_output_that_is_another_deliverables_partial_is_refused_before_any_work(make_scene, tmp_path):
    import pipeline

    scene = make_scene(deliver_scene(deliver=[{"output": "out/a.mp4", "size": [96, 54]},
                                              {"output": "out/a.part.mp4", "size": [54, 96]}]))
    with pytest.raises(SceneError, match="the partial video of deliver.0"):
        pipeline.render(scene, device="cpu")
    assert not (tmp_path / "out").exists()


def test_a_gif_beside_videos_with_sound_is_a_silent_deliverable(make_scene, tmp_path):
    from pipeline.plan import make_plan

    shutil.copy(ROOT / "scenes" / "pulse.m4a", tmp_path / "pulse.m4a")
    plan = make_plan(make_scene(deliver_scene(audio="pulse.m4a")))
    assert "deliver.2: a gif has no sound track: it is silent" in plan.notes
    broadcast = make_plan(make_scene(deliver_scene(audio={"file": "pulse.m4a", "loudness": -23}, deliver=[
        {"output": "yt.mp4", "preset": "youtube"}])))
    assert any("the scene's audio.loudness, -23 LUFS, not youtube's -14" in note for note in broadcast.notes)
    with pytest.raises(SceneError, match="a gif output has no sound track"):  # alone, a GIF with sound is a mistake
        make_scene(small_scene(audio="pulse.m4a", output="alone.gif"))


def test_odd_output_names_are_fine(make_scene):
    from pipeline.plan import make_plan

    scene = make_scene(deliver_scene(deliver=[{"output": "-it's a \"name\" .mp4", "size": [96, 54]}]))
    assert make_plan(scene).deliverables[0].output.name == "-it's a \"name\" .mp4"


def test_out_is_refused_with_deliver_naming_the_items_outputs(write_scene, command, tmp_path):
    result = command(write_scene(deliver_scene()), "--out", tmp_path / "x.mp4", "--device", "cpu")
    assert result.returncode == 2 and "deliver.0.output (out/wide.mp4)" in result.stderr


def test_text_keeps_to_the_deliverables_safe_area(make_scene):
    from pipeline.plan import make_plan
    from pipeline.session.deliver import DeliverableLook

    data = deliver_scene(text=[{"content": "Go", "position": [0.5, 1.0], "anchor": "bottom"}], deliver=[
        {"output": "wide.mp4", "preset": "youtube", "size": [96, 54]},
        {"output": "tall.mp4", "preset": "reels", "size": [54, 96]}])
    plan = make_plan(make_scene(data))
    bottoms = []
    for spec in plan.deliverables:
        texts = DeliverableLook(plan, spec, "cpu").texts
        _, body = texts.raster(0, plan.texts[0], 1.0)
        bottoms.append(texts.place(plan.texts[0], body, 0, 0)[1] + body[3])
    assert bottoms == [round(54 * 0.95), round(96 * 0.65)]  # YouTube's 5% margin; above the Reels caption


def test_safe_overlays_sit_inside_each_presets_safe_area():
    from pipeline.plan.frames import OverlaySpec
    from pipeline.scene.presets import PRESETS
    from pipeline.session.deliver import overlay_corner

    logo = OverlaySpec(BADGE, (1.0, 1.0), "bottom-right", 0.2, None, 0, 0, safe=True)
    for name, drawn in [("youtube", (384, 100)), ("reels", (216, 60))]:
        preset = PRESETS[name]
        width, height = preset.size
        top, right, bottom, left = preset.safe
        x, y = overlay_corner(logo, (width, height), drawn, preset.safe)
        assert x + drawn[0] == round(width * (1 - right)) and y + drawn[1] == round(height * (1 - bottom)), name
    reels_bottom = overlay_corner(logo, (1080, 1920), (216, 60), PRESETS["reels"].safe)[1] + 60
    assert reels_bottom < 1920 * 0.66  # above the caption and buttons Reels lays over the lowest third
    plain = OverlaySpec(BADGE, (1.0, 1.0), "bottom-right", 0.2, None, 0, 0)
    assert overlay_corner(plain, (1920, 1080), (384, 100), PRESETS["youtube"].safe) == (1536, 980)


# ------------------------------------------------------------ renders

def frames_of(path) -> np.ndarray:
    return np.stack(list(iio.imiter(path))) if path.suffix == ".gif" else iio.imread(path)


@pytest.mark.slow
def test_three_deliverables_from_one_dream(make_scene, tmp_path, monkeypatch):
    import pipeline
    from pipeline.session.recipe import Dreamer

    steps = []
    step = Dreamer.step
    monkeypatch.setattr(Dreamer, "step", lambda self, spec: steps.append(spec.index) or step(self, spec))
    scene = make_scene(deliver_scene(frames=4))
    result = pipeline.render(scene, device="cpu")
    assert steps == [0, 1, 2, 3] and result.dreamed == 4  # once per frame, not once per deliverable
    wide, tall, square = result.paths
    assert [p.name for p in result.paths] == ["wide.mp4", "tall.mp4", "square.gif"]
    frames = {p.name: frames_of(p) for p in result.paths}
    assert frames["wide.mp4"].shape == (4, 54, 96, 3)
    assert frames["tall.mp4"].shape == (4, 96, 54, 3)
    assert frames["square.gif"].shape[:3] == (4, 24, 24)
    assert iio.immeta(wide)["fps"] == pytest.approx(24)
    for path in result.paths:
        assert (path.parent / (path.name + ".yaml")).is_file()
    assert not list(tmp_path.glob("out/.*.work")) and not list(tmp_path.glob("out/*.part*"))

    # shared content: the square is the canvas' middle 48x48, resampled; the wide's middle holds it too
    middle = frames["wide.mp4"][:, 3:51, 24:72].astype(float)  # the wide crop is rows 21-74 of the canvas
    shrunk = middle.reshape(4, 12, 4, 12, 4, 3).mean(axis=(2, 4))  # both to 12x12: past the GIF's dithering
    square = frames["square.gif"][..., :3].astype(float).reshape(4, 12, 2, 12, 2, 3).mean(axis=(2, 4))
    assert np.corrcoef(shrunk.ravel(), square.ravel())[0, 1] > 0.9
    tall_middle = frames["tall.mp4"][:, 21:75, :].astype(float)  # the tall's rows 21-74 are the wide's middle
    wide_middle = frames["wide.mp4"][:, :, 21:75].astype(float)
    assert np.corrcoef(tall_middle[:, :, :, 0].ravel(), wide_middle[:, :, :, 0].ravel())[0, 1] > 0.9

    # a deliverable's sidecar renders the whole campaign again, in place, to the same pictures
    again = pipeline.render(pipeline.load_scene(tall.parent / "tall.mp4.yaml"), device="cpu", overwrite=True)
    assert again.paths == result.paths and all(np.array_equal(frames_of(p), frames[p.name]) for p in again.paths)


def test_a_render_writing_any_one_deliverable_holds_the_campaign_off(make_scene, tmp_path):
    """Another render of one of its files (a single output, or another campaign sharing it) holds
    that file's lock: the campaign is refused before any work and leaves nothing behind."""
    import pipeline
    from pipeline.session.lock import OutputBusy, OutputLock

    scene = make_scene(deliver_scene(frames=3))
    before = sorted(p.name for p in (tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    with OutputLock(tmp_path / "out" / "tall.mp4"):
        with pytest.raises(OutputBusy, match="another render is writing tall.mp4"):
            pipeline.render(scene, device="cpu")
        after = sorted(p.name for p in (tmp_path / "out").iterdir() if "tall.mp4.lock" not in p.name)
    assert after == before  # no work folder, no partial, no other lock left


@pytest.mark.slow
def test_resume_mid_render_gives_the_same_files(make_scene, tmp_path):
    import pipeline
    from pipeline.session.session import RenderInterrupted

    data = deliver_scene(frames=6, motion={"zoom": 1.05})
    data["deliver"][1]["focus"] = {0: [0.2, 0.5], 5: [0.8, 0.5]}  # the tall crop pans across the canvas
    scene = make_scene(data)
    reference = pipeline.render(scene, device="cpu", checkpoint_every=2)
    tall = reference.paths[1]
    from pipeline.cli.check import sidecar_motion  # check reads the tall one's share of the canvas' motion

    motion, source = sidecar_motion(tall)
    zoom, _, (dx, dy), (cx, cy) = motion(3)
    assert "deliver.1" in source and zoom == pytest.approx(1.05)
    assert dx == -12 and dy == 0  # the crop moved 12 pixels right from frame 2 (left 15) to 3 (left 27)
    assert (cx, cy) == (pytest.approx(33 / 54), pytest.approx(0.5))  # the canvas' pivot, in the crop before
    expected = {p.name: frames_of(p) for p in reference.paths}
    for path in reference.paths:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        (path.parent / (path.name + ".yaml")).unlink()

    def stop(done, total):
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted) as stopped:
        pipeline.render(scene, device="cpu", checkpoint_every=2, progress=stop)
    assert len(stopped.value.partials) == 3 and not any(p.exists() for p in reference.paths)
    assert (tmp_path / "out" / ".wide.mp4.deliver.work" / "checkpoint.pt").is_file()
    resumed = pipeline.render(scene, device="cpu", checkpoint_every=2, resume=True)
    assert resumed.dreamed == 4  # from the last checkpoint (frame 2) on, not from 0
    for path in resumed.paths:
        assert np.array_equal(frames_of(path), expected[path.name]), path.name


@pytest.mark.slow
@pytest.mark.parametrize("dies_at, placed", [("tall.mp4", [True, False, False]), ("wide.mp4.yaml", [True] * 3)])
def test_a_render_killed_while_placing_its_deliverables_resumes_to_every_file(write_scene, command, monkeypatch,
                                                                              dies_at, placed):
    """Killed after the first deliverable is renamed into place and before the next, or after the
    last and before the sidecars: --resume (no --overwrite: the files are its own) puts the rest in
    place, without a half-written file anywhere."""
    import os

    import pipeline
    from pipeline.session import session

    scene = write_scene(deliver_scene(frames=2))
    replace = os.replace

    def killed(source, target):
        if Path(target).name == dies_at:
            raise SystemExit(137)  # the process dies here: nothing after runs
        replace(source, target)

    monkeypatch.setattr(session.os, "replace", killed)  # the os module's: the sidecars' too
    with pytest.raises(SystemExit):
        pipeline.render(pipeline.load_scene(scene), device="cpu")
    monkeypatch.undo()
    outputs = [scene.parent / "out" / name for name in ("wide.mp4", "tall.mp4", "square.gif")]
    assert [path.exists() for path in outputs] == placed
    resumed = command(scene, "--device", "cpu", "--full", "--quiet", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert [len(frames_of(path)) for path in outputs] == [2, 2, 2]
    assert all((path.parent / (path.name + ".yaml")).is_file() for path in outputs)
    assert not list((scene.parent / "out").glob("*.part*"))


def test_the_canvas_shows_each_crop_outlined_for_the_storyboard_and_the_live_page(make_scene):
    import torch

    from pipeline.plan import make_plan
    from pipeline.plan.deliver import OUTLINE_COLORS
    from pipeline.session.deliver import crop_boxes, outlined

    plan = make_plan(make_scene(deliver_scene()))
    boxes = crop_boxes(plan, 0)
    assert [box for _, box, _ in boxes] == [(0, 21, 96, 54), (21, 0, 54, 96), (24, 24, 48, 48)]
    frame = outlined(torch.zeros(1, 3, 96, 96), plan, 0)
    assert frame[0, :, 21, 50].mul(255).round().tolist() == list(OUTLINE_COLORS[0])  # the wide crop's top edge
    assert frame[0, :, 50, 50].abs().sum() == 0  # inside: untouched
    from pipeline.cli.live.feed import Feed

    feed = Feed("scene.yaml")
    feed.started(make_scene(deliver_scene()), plan, range(4), plan.deliverables[0].output)
    legend = feed.snapshot()["deliverables"]
    assert [(d["output"], d["size"], d["color"]) for d in legend][0] == ("wide.mp4", [96, 54], "#ffc400")


def test_batch_rows_that_share_any_deliverables_output_are_refused(write_scene, command, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("deliver.0.output\nout/a.mp4\nout/b.mp4\n")  # both keep deliver.1's out/tall.mp4
    result = command(write_scene(deliver_scene()), "--batch", rows, "--dry-run")
    assert result.returncode == 2 and "rows.csv:3: output" in result.stderr and "tall.mp4 is also" in result.stderr


def test_vary_names_every_deliverable_after_its_values(write_scene, command):
    result = command(write_scene(deliver_scene()), "--vary", "motion.zoom=1.0,1.02", "--dry-run")
    assert result.returncode == 0, result.stderr
    for name in ("wide.zoom-1.0.mp4", "tall.zoom-1.0.mp4", "square.zoom-1.02.gif"):
        assert name in result.stdout
    frames = deliver_scene(deliver=[{"output": "out/wide.mp4", "size": [96, 54]}, {"output": "out/frames", "size": [32, 32]}])
    result = command(write_scene(frames), "--vary", "motion.zoom=1.0,1.02", "--dry-run")
    assert result.returncode == 0, result.stderr  # a PNG folder's variant is a folder name without a suffix
    assert "out/frames-zoom-1_02 " in result.stdout and "out/wide.zoom-1.02.mp4" in result.stdout


@pytest.mark.slow
def test_a_deliverable_that_fails_to_encode_fails_the_render_and_keeps_the_work(write_scene, command, monkeypatch):
    from pipeline.output.encoder import EncodeError
    from pipeline.output.pieces import Pieces

    scene = write_scene(deliver_scene(frames=4))
    finish = Pieces.finish

    def failing(self, writer):
        if self.folder.name == "1":  # the tall one's encoder fails
            raise EncodeError("ffmpeg failed (simulated)")
        return finish(self, writer)

    monkeypatch.setattr(Pieces, "finish", failing)
    flags = ("--device", "cpu", "--quiet", "--checkpoint-every", "2", "--frames", "1:3")
    failed = command(scene, *flags)
    assert failed.returncode == 1 and "--resume" in failed.stderr
    outputs = [scene.parent / "out" / name for name in ("wide.mp4", "tall.mp4", "square.gif")]
    assert not any(path.exists() for path in outputs)  # none under its final name
    assert (scene.parent / "out" / ".wide.mp4.deliver.work").is_dir()
    monkeypatch.setattr(Pieces, "finish", finish)
    report = scene.parent / "report.json"
    resumed = command(scene, *flags, "--resume", "--report", report)
    assert resumed.returncode == 0, resumed.stderr
    assert [len(frames_of(path)) for path in outputs] == [3, 3, 3]  # --frames 1:3 in each
    record = json.loads(report.read_text())["scenes"][0]
    assert record["dreamed"] == 4  # frames 0-3, once for the three
    assert [(Path(d["output"]).name, d["size"]) for d in record["deliverables"]] == [
        ("wide.mp4", [96, 54]), ("tall.mp4", [54, 96]), ("square.gif", [24, 24])]
    assert all(len(d["output_sha256"]) == 64 for d in record["deliverables"])
    kept = command(scene, *flags, "--resume", "--report", report)  # all three finished: kept as they are
    record = json.loads(report.read_text())["scenes"][0]
    assert kept.returncode == 0 and record["status"] == "kept" and len(record["deliverables"]) == 3

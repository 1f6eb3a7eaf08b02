"""Production outputs: every format, sound, fades, sub-ranges and the sidecar."""

import re
import subprocess

import av
import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import yaml
from PIL import Image

from pipeline.media import ffmpeg
from pipeline.session.session import RenderRefused, render
from pipeline.plan import make_plan
from pipeline.scene import Scene, SceneError, load_scene
from pipeline.output.sidecar import sidecar_path
from tests.helpers import LOGO

TINY = {
    "size": [100, 76], "fps": 12, "frames": 6, "start": "logo.png",
    "dream": {"octaves": 1, "iterations": 1, "step": 0.03, "jitter": 4}, "motion": {"zoom": 1.05},
    "segments": [{"frames": [0, 5], "layers": "circles"}],
}


def tiny_data(width=100, height=76, frames=6, **changes) -> dict:
    """The tiny scene at that size and length, with top-level keys changed."""
    return {**TINY, "size": [width, height], "frames": frames,
            "segments": [{"frames": [0, frames - 1], "layers": "circles"}], **changes}


def tiny(make_scene, width=100, height=76, frames=6, **changes):
    return make_scene(tiny_data(width, height, frames, **changes), "tiny")


def run_render(scene, out, inception, **kwargs):
    return render(scene, make_plan(scene, output=out), out, "cpu", progress=False, net=inception, **kwargs)


def frame_count(path):
    if path.is_dir():
        return len(list(path.glob("*.png")))
    if path.suffix == ".webp":
        with Image.open(path) as image:
            return image.n_frames
    return iio.imread(path).shape[0]


def stream_seconds(path, stream):
    """Duration of one stream ('v' or 'a') by decoding it."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(path), "-map", f"0:{stream}:0", "-f", "null", "-"],
        capture_output=True, text=True,
    )
    times = re.findall(r"time=(\d+):(\d+):([\d.]+)", result.stderr)
    if not times:
        return None
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


FORMATS = [
    ("out.mp4", {}, (100, 76)),
    ("out.mp4", {"encode": {"codec": "h265"}}, (100, 76)),
    ("out.mov", {}, (100, 76)),
    ("out.gif", {}, (101, 77)),
    ("out.webp", {}, (100, 76)),
    ("frames", {}, (101, 77)),
    ("portrait.mp4", {}, (76, 136)),
    ("square.mp4", {}, (96, 96)),
]


@pytest.fixture(scope="module")
def rendered_format(inception, tmp_path_factory):
    """The output of the tiny scene rendered as FORMATS[i], rendered once for all the tests that look at it."""
    rendered = {}

    def get(index):
        if index not in rendered:
            name, extra, (width, height) = FORMATS[index]
            folder = tmp_path_factory.mktemp("format")
            (folder / "logo.png").write_bytes(LOGO.read_bytes())

            scene = Scene.from_data(tiny_data(width, height, **extra), base_dir=folder, name="tiny")
            rendered[index] = folder / name
            run_render(scene, rendered[index], inception)
        return rendered[index]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(FORMATS)),
                         ids=[f"{n}{'-h265' if e else ''}-{w}x{h}" for n, e, (w, h) in FORMATS])
def test_each_format_reads_back_with_every_frame(index, rendered_format):
    _, _, size = FORMATS[index]
    out = rendered_format(index)
    assert out.exists() and frame_count(out) == 6
    if out.is_dir():
        with Image.open(sorted(out.glob("*.png"))[0]) as first:
            assert first.size == size  # PNG keeps odd sizes exactly
    elif out.suffix != ".webp":
        assert iio.imread(out).shape[1:3] == (size[1], size[0])
    assert sidecar_path(out).is_file()


@pytest.mark.slow
def test_h265_and_prores_are_what_they_say(rendered_format):
    for index, codec in ((1, "hevc"), (2, "prores")):  # out.mp4 with h265, out.mov
        out = rendered_format(index)
        info = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(out)], capture_output=True, text=True)
        assert f"Video: {codec}" in info.stderr


@pytest.fixture
def tone(tmp_path):
    def make(seconds):
        path = tmp_path / f"tone{seconds}.mp3"
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
             f"sine=frequency=440:duration={seconds}", str(path)],
            check=True,
        )
        return path

    return make


@pytest.mark.slow
@pytest.mark.parametrize("audio_seconds", [3.0, 0.4])
def test_audio_is_cut_or_padded_to_the_video(audio_seconds, make_scene, inception, tmp_path, tone):
    track = tone(audio_seconds)
    scene = tiny(make_scene, frames=12, audio={"file": str(track), "fade_out": 0.3})
    out = tmp_path / "sound.mp4"
    run_render(scene, out, inception)
    assert frame_count(out) == 12
    assert stream_seconds(out, "a") == pytest.approx(1.0, abs=0.05)
    assert stream_seconds(out, "v") == pytest.approx(1.0, abs=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("frames", [None, range(3, 10)], ids=["whole", "part"])
def test_a_video_joined_from_pieces_plays_at_its_rate(make_scene, inception, tmp_path, tone, frames):
    """Pieces of 4 frames at 10 fps, the last (and with a range the first) shorter, joined and muxed
    with sound. A piece of 1 or 2 frames has no B-frame delay: joined as they come, the decode times
    would jump or run backwards (FFmpeg's average rate 25/3 for 10). They step evenly."""
    scene = tiny(make_scene, frames=10, fps=10, audio=str(tone(3.0)))
    out = tmp_path / "pieces.mp4"
    run_render(scene, out, inception, checkpoint_every=4, frames=frames)
    facts, count = ffmpeg.probe(out).video, len(frames or range(10))
    assert ffmpeg.decoded_frames(out) == facts.frames == count and facts.seconds == pytest.approx(count / 10)
    assert facts.base_rate == facts.rate == 10
    with av.open(str(out)) as container:
        times = [packet.dts for packet in container.demux(video=0) if packet.size]
    assert len(set(np.diff(times))) == 1 and np.diff(times)[0] > 0  # one step between decode times


@pytest.mark.parametrize("suffix", [".gif", ".mkv"])
def test_a_single_frame_at_one_fps_is_a_whole_video(make_scene, tmp_path, suffix):
    """One frame has no step to read a rate from (Matroska's reads 1000 fps): it verifies by its count."""
    scene = make_scene({**tiny_data(frames=3, fps=1), "weights": "random"})
    out = tmp_path / f"one{suffix}"
    render(scene, make_plan(scene, output=out), out, "cpu", progress=False, frames=range(0, 1))
    assert ffmpeg.decoded_frames(out) == 1


def test_audio_problems_are_caught_before_work(make_scene):
    with pytest.raises(SceneError, match="audio.file: .* not found; audio takes a sound file"):
        tiny(make_scene, audio="nope.mp3")
    with pytest.raises(SceneError, match="has no sound track"):
        tiny(make_scene, output="out.gif", audio="logo.png")


@pytest.mark.slow
def test_video_fades_from_and_to_black(make_scene, inception, tmp_path):
    scene = tiny(make_scene, frames=12, fade={"in": 0.5, "out": 0.25}, encode={"crf": 0})
    out = tmp_path / "fade.mp4"
    run_render(scene, out, inception)
    brightness = iio.imread(out).mean(axis=(1, 2, 3))
    assert brightness[0] < 0.3 * brightness[6]
    assert brightness[0] < brightness[2] < brightness[4] < brightness[6]
    assert brightness[-1] < 0.5 * brightness[8]


@pytest.mark.slow
def test_frames_option_writes_that_part_of_the_timeline(write_scene, tmp_path, command):
    scene_file = write_scene(yaml.safe_dump(tiny_data(frames=8, encode={"crf": 0})))
    outputs = {}
    for label, extra in (("all", []), ("part", ["--frames", "3:5"])):
        outputs[label] = tmp_path / f"{label}.mp4"
        result = command(scene_file, "--device", "cpu", "--full", "--quiet", "--out", outputs[label], *extra)
        assert result.returncode == 0, result.stderr
    full, part = iio.imread(outputs["all"]), iio.imread(outputs["part"])
    assert part.shape[0] == 3
    assert np.array_equal(part, full[3:6])


@pytest.mark.slow
def test_sidecar_renders_the_same_video_again(make_scene, inception, tmp_path):
    scene = tiny(make_scene, motion={"zoom": {0: 1.0, 5: 1.1, "ease": "smooth"}, "rotate": 2})
    first = tmp_path / "first.mp4"
    run_render(scene, first, inception)
    sidecar = load_scene(sidecar_path(first))
    again = tmp_path / "again.mp4"
    run_render(sidecar, again, inception)
    assert np.array_equal(iio.imread(first), iio.imread(again))
    assert sidecar.rendered["versions"]["torch"]
    assert sidecar.rendered["frames"] == [0, 5]
    assert f"python render.py {sidecar_path(first)} --out AGAIN.mp4" in sidecar_path(first).read_text()

    # in place: the sidecar is the render's own, written anew; a scene that is not a sidecar is never replaced
    frames = iio.imread(first)
    run_render(sidecar, sidecar.output_path, inception, overwrite=True)
    assert np.array_equal(iio.imread(first), frames) and load_scene(sidecar_path(first)).rendered
    own = tmp_path / "own.mp4.yaml"
    own.write_text(sidecar_path(first).read_text().split("\nrendered:")[0].replace("output: first.mp4", "output: own.mp4"))
    with pytest.raises(RenderRefused, match="own.mp4.yaml would replace"):
        run_render(load_scene(own), tmp_path / "own.mp4", inception, overwrite=True)


@pytest.mark.slow
def test_storyboard_shows_segment_starts_midpoints_and_the_end(write_scene, tmp_path, command):
    data = tiny_data(160, 96, 10)
    data["segments"] = [{"frames": [0, 4], "layers": "circles"}, {"frames": [5, 9], "layers": "edges"}]
    scene_file = write_scene(yaml.safe_dump(data))  # the command reads a file
    result = command(scene_file, "--storyboard", "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    board = scene_file.parent / "renders" / "scene.storyboard.png"
    assert f"Storyboard: {board}" in result.stdout
    with Image.open(board) as sheet:
        # frames 0, 2, 5, 7, 9: five tiles of 160x96, three above two
        assert sheet.size == (3 * 160, 2 * 96)
    assert not (scene_file.parent / "renders" / "scene.mp4").exists()

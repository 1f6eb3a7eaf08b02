"""`check VIDEO`: the figures per sixth on small synthetic videos whose answers are known."""

import json

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from pipeline.cli import main
from pipeline.tools import quality

W, H = 64, 48


def noise(seed: int, low: int = 20, high: int = 236, colour: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if colour:
        return rng.integers(low, high, (H, W, 3), dtype=np.uint8)
    return np.repeat(rng.integers(low, high, (H, W, 1), dtype=np.uint8), 3, axis=2)


def write_video(path, frames, fps=12):
    """Frames into a video with imageio-ffmpeg: .mkv lossless (FFV1, RGB), else its default H.264."""
    lossless = dict(codec="ffv1", pix_fmt_out="bgr0") if path.suffix == ".mkv" else {}
    writer = imageio_ffmpeg.write_frames(str(path), (W, H), fps=fps, macro_block_size=1, ffmpeg_log_level="error",
                                         **lossless)
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def check(capsys, *args):
    code = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys, *args) -> dict:
    code, out, err = check(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def half_blown(seed):
    frame = noise(seed)
    frame[:, : W // 2] = 255
    return frame


def test_the_figures_of_single_frames():
    frame = half_blown(0)
    assert quality.clipped(frame) == 0.5
    assert quality.clipped(noise(0)) == 0.0
    sharp = noise(1, colour=False)
    assert quality.detail(cv2.GaussianBlur(sharp, (0, 0), 2)) < 0.1 * quality.detail(sharp)
    assert quality.hue_spread(noise(2, colour=False)) == 0.0  # grey: no saturated pixel
    red = np.zeros((H, W, 3), np.uint8)
    red[..., 0] = 200
    assert quality.hue_spread(red) == 0.0  # one hue
    assert 3.9 < quality.hue_spread(noise(3)) <= np.log2(18)
    assert quality.flicker(red, red) == 0.0


@pytest.mark.parametrize("suffix, tolerance", [(".mkv", 0.0), (".mp4", 0.03)])
def test_half_the_pixels_blown_is_reported_as_clipped(tmp_path, capsys, suffix, tolerance):
    video = write_video(tmp_path / f"blown{suffix}", [half_blown(i) for i in range(12)])
    report = check_json(capsys, video)
    assert report["frames"] == 12 and (report["width"], report["height"]) == (W, H)
    assert [(p["first"], p["last"]) for p in report["parts"]] == [(i, i + 1) for i in range(0, 12, 2)]
    assert all(abs(p["clipped"] - 0.5) <= tolerance for p in report["parts"])
    assert any(w.startswith("clipped: up to 50% of pixels") for w in report["warnings"])

    clean = check_json(capsys, write_video(tmp_path / f"clean{suffix}", [noise(i) for i in range(12)]))
    assert all(p["clipped"] <= 0.01 for p in clean["parts"])
    assert not [w for w in clean["warnings"] if w.startswith("clipped")]


def test_detail_that_softens_away_is_reported(tmp_path, capsys):
    frames = [noise(i) if i < 6 else cv2.GaussianBlur(noise(i), (0, 0), 2) for i in range(12)]
    report = check_json(capsys, write_video(tmp_path / "softens.mkv", frames))
    details = [p["detail"] for p in report["parts"]]
    assert details[-1] < 0.2 * details[1]
    assert any(w.startswith("detail: the end keeps") for w in report["warnings"])

    sharp = check_json(capsys, write_video(tmp_path / "sharp.mkv", [noise(i) for i in range(12)]))
    assert not [w for w in sharp["warnings"] if w.startswith("detail")]


def test_grey_video_has_no_hue_spread(tmp_path, capsys):
    grey = check_json(capsys, write_video(tmp_path / "grey.mkv", [noise(i, colour=False) for i in range(12)]))
    assert all(p["hue_bits"] == 0.0 for p in grey["parts"])
    assert any(w.startswith("hue spread: down to 0.0 bits") for w in grey["warnings"])
    colourful = check_json(capsys, write_video(tmp_path / "colour.mkv", [noise(i) for i in range(12)]))
    assert all(p["hue_bits"] > 3.9 for p in colourful["parts"])
    assert not [w for w in colourful["warnings"] if w.startswith("hue")]


def test_colour_drift_from_the_first_frame(tmp_path, capsys):
    frames = [np.full((H, W, 3), (128, 128 - 8 * i, 128 - 8 * i), np.uint8) for i in range(12)]
    report = check_json(capsys, write_video(tmp_path / "drift.mkv", frames))
    drifts = [p["drift"] for p in report["parts"]]
    assert drifts == sorted(drifts) and drifts[0] < 5 < 30 < drifts[-1]
    assert any(w.startswith("colour drift") for w in report["warnings"])


def zooming(count=12, zoom=1.05):
    """Each frame the one before zoomed in: nothing changes but the camera."""
    frames = [cv2.GaussianBlur(noise(7), (0, 0), 1.5)]
    for _ in range(count - 1):
        frames.append(quality.compensate(frames[-1], zoom))
    return frames


def test_flicker_compensates_the_zoom_given_or_recorded_in_the_sidecar(tmp_path, capsys):
    video = write_video(tmp_path / "zoom.mkv", zooming())
    plain = check_json(capsys, video)
    assert plain["parts"][0]["flicker"] > 2 and "plain difference" in plain["flicker_motion"]
    given = check_json(capsys, video, "--zoom", "1.05")
    assert all(p["flicker"] < 0.05 for p in given["parts"])
    (tmp_path / "zoom.mkv.yaml").write_text(
        "size: [128, 96]\nfps: 12\nframes: 12\nstart: noise\nmotion: {zoom: 1.05}\n"
        "segments:\n  - frames: [0, 11]\n    layers: edges\nrendered: {frames: [0, 11], preview: false}\n"
    )
    recorded = check_json(capsys, video)
    assert "zoom.mkv.yaml" in recorded["flicker_motion"]
    assert [p["flicker"] for p in recorded["parts"]] == [p["flicker"] for p in given["parts"]]


def test_the_table_and_its_warnings(tmp_path, capsys):
    video = write_video(tmp_path / "blown.mp4", [half_blown(i) for i in range(12)])
    code, out, err = check(capsys, video)
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].startswith(f"{video}: 12 frames, 64x48; no sidecar")
    assert lines[1].split() == ["part", "frames", "clipped", "detail", "hue", "bits", "flicker", "drift"]
    assert lines[2].split()[:2] == ["1/6", "0-1"]
    assert ("warning: clipped: up to 50% of pixels crushed to black or blown to white (sixths 2-6); "
            "over 5% looks harsh") in lines
    assert all(len(line) <= 120 for line in lines[1:])  # the first names the video


@pytest.mark.parametrize("content", [None, b"", b"not a video at all", "folder"])
def test_a_missing_or_undecodable_file_is_one_line_and_exit_2(tmp_path, capsys, content):
    video = tmp_path / "broken.mp4"
    if content == "folder":
        video.mkdir()
    elif content is not None:
        video.write_bytes(content)
    code, out, err = check(capsys, video)
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"{video}: ")
    assert "Traceback" not in err

"""Platform presets: the table, `presets [--json]`, and `check VIDEO --preset NAME` on files made here by
ffmpeg (not by a render): one that meets the spec and ones that fail it one way each."""

import json

import pytest

from pipeline.cli import main
from pipeline.cli.check import preset_findings
from pipeline.media import ffmpeg
from pipeline.media.files import moov_before_mdat
from pipeline.scene.presets import PRESETS


def run(capsys, *args):
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def test_every_preset_is_a_sane_spec():
    assert {"youtube", "reels", "tiktok", "shorts", "feed-square", "feed-portrait"} <= set(PRESETS)
    for name, p in PRESETS.items():
        assert p.name == name and p.size[0] % 2 == 0 and p.size[1] % 2 == 0
        assert 0 < p.fps[0] <= p.fps[1] and p.max_duration > 0 and p.audio_rate in (44_100, 48_000)
        assert -30 <= p.loudness <= -5 and p.true_peak <= 0
        top, right, bottom, left = p.safe
        assert top + bottom < 1 and left + right < 1 and min(p.safe) >= 0
    assert PRESETS["youtube"].bitrate_for(30) == 8_000_000 and PRESETS["youtube"].bitrate_for(60) == 12_000_000
    assert PRESETS["reels"].takes_fps(30) and not PRESETS["reels"].takes_fps(15)
    assert PRESETS["shorts"].max_duration == 180 and PRESETS["tiktok"].max_duration == 600


def test_the_presets_command_prints_the_table_and_its_json(capsys):
    code, out, _ = run(capsys, "presets")
    assert code == 0 and all(name in out for name in PRESETS) and "1080x1920" in out
    code, out, _ = run(capsys, "presets", "--json")
    table = json.loads(out)
    assert code == 0 and set(table) == set(PRESETS)
    for field in ("size", "fps", "max_duration", "video_bitrate", "audio_rate", "loudness", "true_peak", "safe"):
        assert all(field in entry for entry in table.values()), field
    assert table["reels"]["safe"] == [0.14, 0.06, 0.35, 0.06]


def made(path, size="1080x1080", fps=24, amplitude=0.3, faststart=True):
    """A quarter-second test pattern with half a second of a 1 kHz tone (a loudness needs 0.4 s); at
    amplitude 0.3 it measures about -13.5 LUFS, where the presets ask -14."""
    ffmpeg.run("-f", "lavfi", "-i", f"testsrc2=s={size}:r={fps}:d=0.25",
               "-f", "lavfi", "-i", f"aevalsrc={amplitude}*sin(2*PI*1000*t):s=48000:d=0.5",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
               *(["-movflags", "+faststart"] if faststart else []), path)
    return path


def test_a_conforming_file_meets_the_preset_whatever_its_look(tmp_path, capsys):
    video = made(tmp_path / "-square clip.mp4")  # a leading dash and a space are a name, not a flag
    code, out, err = run(capsys, "check", "--preset", "feed-square", "--", video)
    assert code == 0, out + err
    assert "meets feed-square" in out and "FAIL" not in out and "ok: loudness" in out
    assert "warning: clipped" in out  # the test pattern's flat colours: a look warning, never a failure


def failures(video, preset="feed-square") -> list[str]:
    return [text for passed, text in preset_findings(video, PRESETS[preset]) if passed is False]


@pytest.mark.parametrize("make, failing", [
    (dict(fps=15), "frame rate 15.000 fps, outside 23 to 60 fps"),
    (dict(faststart=False), "no fast start"),
    (dict(amplitude=0.7), "LU over the target of -14"),
])
def test_a_file_that_misses_the_preset_fails_on_that_requirement(tmp_path, make, failing):
    found = failures(made(tmp_path / "clip.mp4", **make))
    assert len(found) == 1 and failing in found[0], found


def test_a_failed_requirement_is_exit_1_and_named_in_the_json(tmp_path, capsys):
    video = made(tmp_path / "clip.mp4", size="640x640")
    code, out, _ = run(capsys, "check", video, "--preset", "feed-square", "--json")
    data = json.loads(out)["preset"]
    assert code == 1 and not data["passed"]
    assert [f["text"] for f in data["findings"] if f["passed"] is False] == ["size 640x640, not 1080x1080"]
    assert json.loads(out)["parts"]  # the look figures are there too


def test_check_refuses_an_unknown_preset_and_a_file_that_is_not_a_video(tmp_path, capsys):
    for name in ("instagram", "nan", "", "-1"):
        code, _, err = run(capsys, "check", tmp_path / "absent.mp4", f"--preset={name}")
        assert code == 2 and "youtube, shorts, reels" in err, (name, err)
    fake = tmp_path / "not 'a' video.mp4"
    fake.write_text("hello")
    code, _, err = run(capsys, "check", fake, "--preset", "reels")
    assert code == 2 and "cannot read it as a video" in err
    assert moov_before_mdat(fake) is None


def test_a_png_folder_is_no_video_for_a_platform(tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    code, _, err = run(capsys, "check", frames, "--preset", "reels")
    assert code == 2 and f"{frames}: a folder of PNG frames is not a video file" in err and "Is a directory" not in err

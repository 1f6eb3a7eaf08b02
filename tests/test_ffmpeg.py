"""ffmpeg's one home (pipeline/media/ffmpeg.py): nothing else starts it, facts come back exact,
any file name works, and nothing but local files is ever opened."""

import socket
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from pipeline.media import ffmpeg
from tests.test_architecture import PACKAGE, imports_of

HOME = PACKAGE / "media" / "ffmpeg.py"
# Modules that may start programs, and why. ffmpeg is started by its home alone.
STARTS_PROGRAMS = {
    "media/ffmpeg.py": "the one place ffmpeg is started",
    "cli/batch.py": "a batch's --jobs children: this same command, one per scene",
}


def test_only_the_ffmpeg_module_reaches_ffmpeg():
    for path in PACKAGE.rglob("*.py"):
        imported = {name.split(".")[0] for name in imports_of(path)}
        if path != HOME:
            assert not imported & {"imageio_ffmpeg", "av"}, f"{path} reaches ffmpeg outside media/ffmpeg.py"
        if "subprocess" in imported:
            assert path.relative_to(PACKAGE).as_posix() in STARTS_PROGRAMS, f"{path} starts a program"


def test_the_scripts_that_make_the_samples_and_pictures_use_the_ffmpeg_module_too():
    for path in [*(PACKAGE.parent / "scenes").glob("*.py"), *(PACKAGE.parent / "docs").glob("*.py")]:
        imported = {name.split(".")[0] for name in imports_of(path)}
        assert not imported & {"imageio_ffmpeg", "av", "subprocess"}, f"{path} runs ffmpeg itself"


def clip(path: Path, rate: str = "10", seconds: float = 1, size=(64, 48), sound: bool = False) -> Path:
    """A test-pattern clip made by the bundled ffmpeg."""
    tone = ["-f", "lavfi", "-i", f"sine=duration={seconds}", "-c:a", "aac"] if sound else []
    ffmpeg.run("-f", "lavfi", "-i", f"testsrc=size={size[0]}x{size[1]}:rate={rate}:duration={seconds}", *tone,
               "-c:v", "libx264", "-pix_fmt", "yuv420p", path)
    return path


def test_an_ntsc_rate_is_read_exactly(tmp_path):
    facts = ffmpeg.probe(clip(tmp_path / "ntsc.mp4", rate="24000/1001"))
    assert facts.video.rate == Fraction(24000, 1001) and isinstance(facts.video.rate, Fraction)
    assert facts.video.base_rate == Fraction(24000, 1001)


def test_frames_size_and_streams_are_read_exactly(tmp_path):
    path = clip(tmp_path / "clip.mp4", rate="12", seconds=2, size=(96, 54), sound=True)
    facts = ffmpeg.probe(path)
    video = facts.video
    assert (video.width, video.height, video.codec, video.pix_fmt) == (96, 54, "h264", "yuv420p")
    assert video.frames == 24 and video.seconds == pytest.approx(2.0, abs=1e-9)
    assert facts.container == "mov,mp4,m4a,3gp,3g2,mj2"
    assert facts.audio is not None and facts.audio.codec == "aac" and facts.audio.channels == 1
    assert ffmpeg.decoded_frames(path) == 24 and ffmpeg.decoded_frames(path, limit=1) == 1
    assert ffmpeg.probe(clip(tmp_path / "silent.mp4")).audio is None


def test_any_file_name_works(tmp_path, monkeypatch):
    """Quotes, spaces and a leading '-' in a name, given relative to the working folder: ffmpeg gets
    the absolute path, so no name passes for an option."""
    monkeypatch.chdir(tmp_path)
    name = Path("-it's a \"clip\" %d.mp4")
    assert ffmpeg.command("-i", name)[-1] == str(tmp_path / name)
    writer = ffmpeg.encoder(name, (32, 24), 10, "libx264", "yuv420p", [])
    pictures = [np.full((24, 32, 3), level, np.uint8) for level in (0, 128, 255)]
    for picture in pictures:
        writer.write(picture)
    assert writer.close() is None
    assert (tmp_path / name).is_file() and not (tmp_path / "it's a \"clip\" %d.mp4").exists()
    assert ffmpeg.probe(name).video.frames == 3 and ffmpeg.decoded_frames(name) == 3
    read = list(ffmpeg.frames(name))
    assert [int(round(frame.mean())) for frame in read] == pytest.approx([0, 128, 255], abs=2)


def test_a_failure_is_one_line(tmp_path):
    (tmp_path / "garbage.mp4").write_bytes(b"\x00\x01not a video" * 100)
    with pytest.raises(ffmpeg.MediaError) as probed:
        ffmpeg.probe(tmp_path / "garbage.mp4")
    with pytest.raises(ffmpeg.MediaError) as ran:
        ffmpeg.run("-i", tmp_path / "garbage.mp4", "-f", "null", "-")
    for error in (probed.value, ran.value):
        assert str(error) and "\n" not in str(error)


@pytest.fixture
def server():
    """A local TCP server that counts who tries to reach it."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        listening.settimeout(10)
        yield listening


def reached(server: socket.socket, timeout: float) -> bool:
    server.settimeout(timeout)
    try:
        connection, _ = server.accept()
    except TimeoutError:
        return False
    connection.close()
    return True


def test_a_url_is_never_opened(server, tmp_path):
    url = f"http://127.0.0.1:{server.getsockname()[1]}/clip.mp4"
    with pytest.raises(ffmpeg.MediaError):
        ffmpeg.run("-i", url, "-f", "null", "-")
    with pytest.raises(ffmpeg.MediaError):
        ffmpeg.probe(Path(url))  # a Path is a file name, whatever it reads like
    assert not reached(server, 0.5)
    # The same command without the restriction does reach out: the check above sees the real thing.
    plain = subprocess.Popen([ffmpeg.executable(), "-v", "quiet", "-nostdin", "-i", url, "-f", "null", "-"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert reached(server, 10)
    finally:
        plain.kill()
        plain.wait()


def test_a_playlist_or_list_under_a_video_name_is_refused(server, tmp_path):
    from pipeline.scene.clips import ClipError, probe

    clip(tmp_path / "clip.mp4")
    (tmp_path / "list.mp4").write_text("ffconcat version 1.0\nfile clip.mp4\n")
    (tmp_path / "playlist.mp4").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n"
                                           f"http://127.0.0.1:{server.getsockname()[1]}/segment.ts\n#EXT-X-ENDLIST\n")
    with pytest.raises(ClipError, match="it is a concat file, not a video"):
        probe(tmp_path / "list.mp4")
    with pytest.raises(ClipError, match="cannot use clip 'playlist.mp4'"):
        probe(tmp_path / "playlist.mp4")
    assert not reached(server, 0.5)

"""Sinks: where a render's frames end up, one class per kind of output.

A render writes its frames in pieces inside a work folder (so a crash costs
at most one piece) and joins them into the output at the end. Each sink
says how a piece is written and how pieces are joined:

- VideoSink (.mp4, .mov, .mkv): pieces in the output's own format, joined
  without re-encoding, the sound muxed in.
- PaletteSink (.gif, .webp): lossless .mkv pieces, encoded once at the end
  (one palette for the whole video).
- PngFolderSink (a folder): each piece a folder of numbered PNGs, merged.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image

from ..media import ffmpeg
from ..media.loudness import Normalisation, normalisation
from ..scene.formats import format_of
from .encoder import EncodeError, VideoWriter, codec_params, container_params, png_pattern
from .reverse import ReversingWriter, video_first
from .verify import Damaged, verify_png_folder, verify_video


PIECE_NAME = re.compile(r"piece_\d{6,}\.[a-z0-9]+")  # how pieces.py names video pieces


@dataclass(frozen=True)
class Audio:
    path: Path
    fade_in: float = 0.0  # seconds
    fade_out: float = 0.0
    loop: float = 0.0  # seconds of a loop's seam: the track starts that late, its start blended into its end
    loudness: float | None = None  # integrated LUFS (ITU-R BS.1770) the muxed track is normalised to; None: as it is
    true_peak: float = -1.0  # dBTP the normalised track stays under

    def __post_init__(self):
        if self.loudness is not None and not -70 < float(self.loudness) <= 0:
            raise ValueError(f"loudness is an integrated LUFS between -70 and 0, not {self.loudness}")
        if not -20 <= float(self.true_peak) <= 0:
            raise ValueError(f"true_peak is a dBTP between -20 and 0, not {self.true_peak}")


@dataclass(frozen=True)
class VideoSettings:
    """What every piece and the joined output share. first_frame and frame_count
    place the written frames (a --frames range) on the timeline of total_frames,
    for fades and sound."""

    width: int
    height: int
    fps: float
    crf: int = 18
    preset: str = "medium"
    codec: str = "h264"
    fade: tuple[float, float] = (0.0, 0.0)  # seconds from and to black
    first_frame: int = 0
    frame_count: int = 0
    total_frames: int = 0
    audio: Audio | None = None
    reverse: bool = False  # pieces hold timeline frames, written backwards (reverse.py)
    max_bitrate: int | None = None  # bit/s: x264/x265 keep their CRF but stay under it (capped CRF)
    audio_rate: int | None = None  # Hz of the muxed AAC; None: the track's own

    def __post_init__(self):
        for name, low, high in (("max_bitrate", 10_000, 10**10), ("audio_rate", 8_000, 192_000)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
                raise ValueError(f"{name} is a whole number from {low} to {high}, not {value!r}")


def sound_graph(audio: Audio, total: float, after: list[str], source: str = "1:a:0") -> str:
    """The filter graph (output [sound]) that makes the track (input `source`) as the whole timeline
    of `total` seconds hears it: padded or cut to that length, faded on the scene's timeline, then
    `after` filters. A loop's sound (the input on repeat) starts `audio.loop` seconds in, where the
    video starts, and its first seconds are crossfaded into the end, as the picture is: a track as
    long as the video loops without a seam."""
    fades = []
    if audio.fade_in > 0:
        fades.append(f"afade=t=in:st=0:d={audio.fade_in:.3f}")
    if audio.fade_out > 0:
        fades.append(f"afade=t=out:st={max(0.0, total - audio.fade_out):.3f}:d={audio.fade_out:.3f}")
    if not audio.loop:
        return f"[{source}]" + ",".join(["apad", f"atrim=duration={total:.6f}", *fades, *after]) + "[sound]"
    seam, body = audio.loop, total - audio.loop
    mix = ",".join(["amix=inputs=2:duration=first:normalize=0", *fades, *after])
    return (f"[{source}]apad,asplit=2[track][start];"
            f"[track]atrim=start={seam:.6f}:duration={total:.6f},asetpts=PTS-STARTPTS,"
            f"afade=t=out:st={body:.6f}:d={seam:.6f}[body];"
            f"[start]atrim=start=0:duration={seam:.6f},asetpts=PTS-STARTPTS,afade=t=in:st=0:d={seam:.6f},"
            f"adelay=delays={body * 1000:.3f}:all=1[seam];"
            f"[body][seam]{mix}[sound]")


def audio_inputs(audio: Audio) -> list[str | Path]:
    """ffmpeg's input options for the track: a loop's sound starts again at its end."""
    return [*(["-stream_loop", "-1"] if audio.loop else []), "-i", Path(audio.path)]


def audio_args(audio: Audio, fps: float, first_frame: int, frame_count: int, total_frames: int,
               level: list[str] = ()) -> list[str]:
    """ffmpeg's arguments that map the sound (input 1) in: the timeline's track (sound_graph) with
    the `level` filters (loudness normalisation) applied to all of it, then this file's part of
    the timeline, so a --frames range sounds exactly as that part of the whole render."""
    offset, seconds, total = first_frame / fps, frame_count / fps, total_frames / fps
    trim = [f"atrim=start={offset:.6f}", "asetpts=PTS-STARTPTS"]
    return ["-filter_complex", sound_graph(audio, total, [*level, *trim]), "-map", "[sound]", "-t", f"{seconds:.6f}"]


def normalised(audio: Audio, fps: float, total_frames: int, rate: int | None) -> Normalisation | None:
    """How the track is brought to `audio.loudness` (None: it is left as it is), measured over the
    whole timeline as it will be muxed, so every --frames range gets the same gain. `rate`: the
    muxed sound's rate in Hz (None: the track's own). Deliverables with one target share one
    measurement (the file's size and time are part of the key, so an edited track is measured anew)."""
    if audio.loudness is None:
        return None
    stat = os.stat(audio.path)
    return _normalised(audio, fps, total_frames, rate, (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _normalised(audio: Audio, fps: float, total_frames: int, rate: int | None, _file: tuple) -> Normalisation:
    if rate is None:
        facts = ffmpeg.probe(audio.path).audio
        rate = facts.sample_rate if facts is not None else 48_000
    total = total_frames / fps

    def track(filters: list[str]):
        return audio_inputs(audio), sound_graph(audio, total, filters, source="0:a:0")

    return normalisation(track, audio.loudness, audio.true_peak, rate)


class Sink:
    """An output and how its frames get there: pieces written, then joined."""

    piece_suffix = ""

    def __init__(self, output: Path, video: VideoSettings):
        self.output, self.video = Path(output), video
        self.normalisation: Normalisation | None = None  # how join() brought the sound to its loudness

    def open_piece(self, path: Path, first: int) -> VideoWriter | ReversingWriter:
        """A writer for the piece that starts at timeline frame `first` (reversed: whose frames,
        written backwards, start the video at N - first - count)."""
        v = self.video
        if v.reverse:
            return ReversingWriter(path, first, v.total_frames, lambda shown: self.open_piece_at(path, shown))
        return self.open_piece_at(path, first)

    def open_piece_at(self, path: Path, first: int) -> VideoWriter:
        """A writer for a piece whose first video frame is `first`."""
        v = self.video
        return VideoWriter(
            path, v.width, v.height, v.fps, crf=v.crf, preset=v.preset, codec=v.codec, frame_count=v.frame_count,
            fade=v.fade, first_frame=first, total_frames=v.total_frames, png_name=self.output.name,
            max_bitrate=v.max_bitrate,
        )

    def join(self, pieces: list[Path], target: Path) -> Path:
        """Join finished pieces, in order, into `target` (a temporary name of the output)."""
        raise NotImplementedError

    def verify_piece(self, path: Path, first: int, count: int) -> None:
        """Damaged unless the piece decodes to its `count` frames at the video's size and rate."""
        verify_video(path, count, (self.video.width, self.video.height), self.video.fps)

    def verify_output(self, path: Path, count: int) -> None:
        """Damaged unless the joined file decodes to all `count` frames written."""
        verify_video(path, count, (self.video.width, self.video.height), self.video.fps)


class VideoSink(Sink):
    def __init__(self, output: Path, video: VideoSettings):
        super().__init__(output, video)
        self.piece_suffix = self.output.suffix.lower()

    def output_params(self) -> list[str]:
        return ["-c:v", "copy", *self.even_decode_times()] + container_params(self.output, self.video.codec)

    def even_decode_times(self) -> list[str]:
        """An MP4's pieces joined with even decode times. x264 and x265 delay decoding by two frames
        (for B-frames), except in a piece of one or two frames: joined as they come, the decode times
        would jump or run backwards where such a piece meets others (FFmpeg's average rate 20/3 for
        8). Every packet's decode time is set to its place in the stream, two frames early, which
        every piece's frames allow (none is shown more than two places before it is decoded)."""
        if format_of(self.output).name != "mp4":
            return []
        rate = Fraction(self.video.fps).limit_denominator()
        return ["-bsf:v", f"setts=pts=PTS:dts=(N-2)/(({rate.numerator}/{rate.denominator})*TB)"]

    def join(self, pieces: list[Path], target: Path) -> Path:
        v = self.video
        # The list names the pieces as the render named them, beside it: no text a user chose
        # (the output's name, its folder) goes into a format it could break out of.
        folder = pieces[0].parent
        if not all(piece.parent == folder and PIECE_NAME.fullmatch(piece.name) for piece in pieces):
            raise ValueError(f"pieces to join must be named by the render, in one folder: {pieces}")
        listing = folder / "pieces.txt"
        listing.write_text("".join(f"file '{piece.name}'\n" for piece in pieces))
        args: list[str | Path] = ["-f", "concat", "-i", listing]
        if v.audio is not None:
            try:
                self.normalisation = normalised(v.audio, v.fps, v.total_frames, v.audio_rate)
            except ffmpeg.MediaError as error:
                listing.unlink(missing_ok=True)
                raise EncodeError(f"ffmpeg could not measure the loudness of {v.audio.path}: {error}") from None
            level = self.normalisation.filters if self.normalisation else []
            args += [*audio_inputs(v.audio), "-map", "0:v:0", "-c:a", "aac", "-b:a", "192k"]
            args += ["-ar", str(v.audio_rate)] if v.audio_rate else []
            args += audio_args(v.audio, v.fps, v.first_frame, v.frame_count, v.total_frames, level)
        muxer = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "gif": "gif", "webp": "webp"}
        args += self.output_params() + ["-f", muxer[format_of(self.output).name], target]
        try:
            ffmpeg.run(*args)
        except ffmpeg.MediaError as error:
            raise EncodeError(f"ffmpeg could not join the pieces into {target}: {error}") from None
        finally:
            listing.unlink(missing_ok=True)
        return target


class PaletteSink(VideoSink):
    """GIF and WebP need the whole video for their palette: lossless pieces, one encode."""

    piece_suffix = ".mkv"

    def __init__(self, output: Path, video: VideoSettings):
        Sink.__init__(self, output, video)

    def output_params(self) -> list[str]:
        _, pix_fmt, params = codec_params(self.output, self.video.codec, self.video.crf, "medium")
        return ["-pix_fmt", pix_fmt] + params

    def verify_output(self, path: Path, count: int) -> None:
        """Read with Pillow: ffmpeg cannot decode animated WebP, and GIF frame times are rounded."""
        try:
            with Image.open(path) as image:
                frames, size = getattr(image, "n_frames", 1), image.size
        except (OSError, SyntaxError) as error:
            raise Damaged(f"{path.name} does not decode: {error}") from None
        if frames != count or size != (self.video.width, self.video.height):
            raise Damaged(f"{path.name} holds {frames} frames of {size[0]}x{size[1]}, "
                          f"not {count} of {self.video.width}x{self.video.height}")


class PngFolderSink(Sink):
    def frame_names(self, first: int, count: int) -> list[str]:
        return [png_pattern(self.output) % index for index in range(first, first + count)]

    def verify_piece(self, path: Path, first: int, count: int) -> None:
        if self.video.reverse:
            first = video_first(first, count, self.video.total_frames)
        verify_png_folder(path, self.frame_names(first, count), (self.video.width, self.video.height))

    def verify_output(self, path: Path, count: int) -> None:
        verify_png_folder(path, self.frame_names(self.video.first_frame, count),
                          (self.video.width, self.video.height))

    def join(self, pieces: list[Path], target: Path) -> Path:
        """The frames are linked (copied where links fail), not moved: the partial folder kept on an
        interrupt leaves the pieces whole, so --resume goes on from them."""
        target.mkdir(parents=True, exist_ok=True)
        for piece in pieces:
            for frame in sorted(piece.glob("*.png")):
                staged = target / f".{frame.name}.part"
                staged.unlink(missing_ok=True)
                try:
                    os.link(frame, staged)
                except OSError:
                    shutil.copy2(frame, staged)
                os.replace(staged, target / frame.name)
        return target


def sink_for(output: Path, video: VideoSettings) -> Sink:
    """The sink for an output path; its suffix picks the format."""
    kind = format_of(output).name
    if kind == "png":
        return PngFolderSink(output, video)
    if kind in ("gif", "webp"):
        return PaletteSink(output, video)
    return VideoSink(output, video)

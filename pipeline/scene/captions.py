"""Captions from SubRip (.srt) and WebVTT (.vtt) files: their structure checked line by line,
so a malformed file is refused naming its line, then read with pysubs2 (which strips the
markup, <i> and {\\an8} alike). No torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_CAPTIONS_BYTES = 8 * 2**20  # a film's worth of captions is well under 1 MiB
SRT_TIME = r"\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}"
VTT_TIME = r"(?:\d{1,3}:)?\d{2}:\d{2}\.\d{3}"
SRT_TIMING = re.compile(rf"^\s*{SRT_TIME}\s*-->\s*{SRT_TIME}(?:\s+.*)?$")
VTT_TIMING = re.compile(rf"^\s*{VTT_TIME}\s*-->\s*{VTT_TIME}(?:\s+.*)?$")
SUFFIXES = {".srt": "srt", ".vtt": "vtt"}


class CaptionError(ValueError):
    """A captions file that cannot be read; `line` is where (1-based), or 0 for the whole file."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str
    line: int  # where its timing is in the file


def _srt_structure(lines: list[str]) -> list[int]:
    """The line numbers of the cues' timings; CaptionError at the first line out of place."""
    timings, index, count = [], 0, len(lines)
    while index < count:
        if not lines[index].strip():
            index += 1
            continue
        number = lines[index].strip().lstrip("\ufeff")
        if not number.isdigit():
            if SRT_TIMING.match(lines[index]):  # a cue without its number: tolerated, as players do
                timings.append(index + 1)
                index += 1
            else:
                raise CaptionError(index + 1, f"expected a cue number (1, 2, ...) or a timing like "
                                              f"'00:00:01,000 --> 00:00:03,500', found {number[:60]!r}")
        else:
            index += 1
            if index >= count or not SRT_TIMING.match(lines[index]):
                found = lines[index].strip()[:60] if index < count else "the end of the file"
                raise CaptionError(index + 1, "expected a timing like '00:00:01,000 --> 00:00:03,500' after the "
                                              f"cue number, found {found!r}")
            timings.append(index + 1)
            index += 1
        while index < count and lines[index].strip():  # the cue's text
            if SRT_TIMING.match(lines[index]):
                raise CaptionError(index + 1, "a timing inside a cue's text: leave a blank line between cues")
            index += 1
    return timings


def _vtt_structure(lines: list[str]) -> list[int]:
    if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise CaptionError(1, "a WebVTT file starts with the line WEBVTT")
    timings, index, count = [], 1, len(lines)
    while index < count and lines[index].strip():  # header lines
        index += 1
    while index < count:
        if not lines[index].strip():
            index += 1
            continue
        block = index
        if lines[index].startswith(("NOTE", "STYLE", "REGION")):
            while index < count and lines[index].strip():
                index += 1
            continue
        if not VTT_TIMING.match(lines[index]):  # a cue identifier, then the timing
            index += 1
        if index >= count or not VTT_TIMING.match(lines[index]):
            line = index if index < count else block
            found = lines[line].strip()[:60] if line < count else "the end of the file"
            raise CaptionError(line + 1, f"expected a timing like '00:01.000 --> 00:03.500', found {found!r}")
        timings.append(index + 1)
        index += 1
        while index < count and lines[index].strip():
            if "-->" in lines[index]:
                raise CaptionError(index + 1, "a timing inside a cue's text: leave a blank line between cues")
            index += 1
    return timings


def read_text(path: Path) -> str:
    if path.stat().st_size > MAX_CAPTIONS_BYTES:
        raise CaptionError(0, f"it is {path.stat().st_size / 2**20:.0f} MiB; a captions file is at most "
                              f"{MAX_CAPTIONS_BYTES // 2**20} MiB")
    data = path.read_bytes()
    if b"\0" in data:
        raise CaptionError(0, "it holds binary data, not text: give an .srt or .vtt file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise CaptionError(line, "not UTF-8 text: save the file as UTF-8") from None


@lru_cache(maxsize=8)
def _cues(path: Path, stamp: tuple) -> tuple[Cue, ...]:
    import pysubs2

    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise CaptionError(0, f"'{path.name}' is neither .srt nor .vtt: give a SubRip or WebVTT file")
    text = read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    timings = (_srt_structure if kind == "srt" else _vtt_structure)(lines)
    try:
        events = [e for e in pysubs2.SSAFile.from_string(text, format_=kind).events if not e.is_comment]
    except Exception as error:  # pysubs2's own complaint, which names no line
        raise CaptionError(0, f"cannot be read: {(str(error).splitlines() or [type(error).__name__])[0]}") from None
    if len(events) != len(timings):
        raise CaptionError(0, f"holds {len(timings)} timings but {len(events)} cues could be read from them: check "
                              "the blank lines between cues")
    cues = []
    for event, line in zip(events, timings):
        if event.end < event.start:
            raise CaptionError(line, "the cue ends before it starts: write start --> end")
        content = event.plaintext.strip()
        if content:
            cues.append(Cue(event.start / 1000.0, event.end / 1000.0, content, line))
    return tuple(cues)


def read_cues(path: Path) -> tuple[Cue, ...]:
    """The cues of an .srt or .vtt file, in the file's order; CaptionError names the line at fault."""
    stat = path.stat()
    return _cues(path, (stat.st_mtime_ns, stat.st_size))


@dataclass(frozen=True)
class Shown:
    """What the captions show from frame `first` to `last`: the cues on screen, stacked."""

    first: int
    last: int
    text: str
    lines: tuple[int, ...]  # the file's lines of its cues' timings


def on_frames(cues: tuple[Cue, ...], fps: float, frame_count: int) -> list[Shown]:
    """The cues on the video's frames: a cue shows from the frame at its start up to the frame
    before its end; where cues overlap, each stretch shows all of them, the earlier above."""
    spans = []
    for cue in cues:
        first, last = round(cue.start * fps), min(frame_count, round(cue.end * fps)) - 1
        if first <= last and first < frame_count:
            spans.append((first, last, cue))
    cuts = sorted({first for first, _, _ in spans} | {last + 1 for _, last, _ in spans})
    shown = []
    for begin, stop in zip(cuts, cuts[1:]):
        active = [cue for first, last, cue in spans if first <= begin and last >= stop - 1]
        if active:
            active.sort(key=lambda cue: (cue.start, cue.line))
            shown.append(Shown(begin, stop - 1, "\n".join(cue.text for cue in active),
                               tuple(cue.line for cue in active)))
    return shown

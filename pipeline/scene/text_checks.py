"""Text and captions checked when the scene loads: the font is a font, it has a glyph for
every character (a missing one is named by its code point, never drawn as an empty box),
scripts that need shaping have it, and captions files are well formed. No torch.
"""

from __future__ import annotations

from pathlib import Path

from .captions import CaptionError, read_cues
from .errors import SceneIssue
from .schema import Input, Scene


def file_issue(kind: str, file: Path) -> str | None:
    """Why a font or captions file named by the scene cannot be used, or None."""
    if not file.is_file():
        return None  # said where files are checked
    if kind == "font":
        from ..image.text import font_issue  # Pillow and fontTools only for scenes with words

        return font_issue(file)
    try:
        read_cues(file)
    except CaptionError as error:
        where = f"'{file.name}' line {error.line}" if error.line else f"'{file.name}'"
        message = str(error).removeprefix(f"line {error.line}: ") if error.line else str(error)
        return f"{where}: {message}"
    except OSError as error:
        return f"'{file.name}' cannot be read: {error.strerror or error}"
    return None


def glyph_issue(text: str, font: Path, what: str) -> str | None:
    """Why `text` cannot be drawn in `font`, or None."""
    from ..image.text import codepoint, control_characters, missing_characters, needs_layout, raqm

    controls = control_characters(text)
    if controls:
        return (f"{what} holds the control character {codepoint(controls[0])}: write line breaks as \\n and "
                "leave other control characters out")
    missing = missing_characters(font, text)
    if missing:
        named = ", ".join(codepoint(c) for c in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                                               else "")
        return (f"the font {font.name} has no glyph for {named}: it would show as an empty box; remove it or give "
                "a font that has it (font: path/to/font.ttf)")
    script = needs_layout(text)
    if script and not raqm():
        return (f"{what} is written in {script.title()}, which needs Pillow's raqm layout (libraqm) to be drawn "
                "right: install libraqm, or write it without")
    return None


def text_issues(scene: Scene, timeline: bool) -> list[SceneIssue]:
    issues = []
    last = scene.frame_count - 1
    for index, item in enumerate(scene.text):
        where = ("text", index)
        font = _usable_font(scene, item.font)
        if font is not None:
            problem = glyph_issue(item.content, font, "the content")
            if problem:
                issues.append(SceneIssue(where + ("content",), problem))
        for key in ("opacity", "scale", "position"):
            track = getattr(item, key)
            late = [frame for frame in getattr(track, "frames", ()) if frame > last] if timeline else []
            if late and not track.is_constant:
                issues.append(SceneIssue(where + (key, late[0]), f"keyframe {late[0]} is past the last frame {last}"))
        first, end = item.start or 0, last if item.end is None else item.end
        if timeline and end > last:
            issues.append(SceneIssue(where + ("end",), f"ends at {end}, past the last frame {last}"))
        elif first > end:
            issues.append(SceneIssue(where + ("start",), f"starts at {first}, after its end {end}"))
    if scene.captions is not None:
        issues += _caption_issues(scene)
    if scene.reverse and scene.loop:
        issues.append(SceneIssue(("reverse",), "a seamless loop (loop: true) already has no start or end to play "
                                               "backwards: remove reverse or loop"))
    return issues


def _usable_font(scene: Scene, font: str | None) -> Path | None:
    """The font file to check glyphs against, or None when it is missing or broken (said elsewhere)."""
    from ..image.text import font_issue, font_path

    path = scene.input_path(Input("font", ""), font) if font is not None else None
    path = path or font_path(font)
    return path if path.is_file() and font_issue(path) is None else None


def _caption_issues(scene: Scene) -> list[SceneIssue]:
    file = scene.input_path(Input("captions", ""), scene.captions.file)
    font = _usable_font(scene, scene.captions.font)
    if font is None or not file.is_file() or file_issue("captions", file) is not None:
        return []
    for cue in read_cues(file):
        problem = glyph_issue(cue.text, font, "the cue")
        if problem:
            return [SceneIssue(("captions", "file"), f"'{file.name}' line {cue.line}: {problem}")]
    return []

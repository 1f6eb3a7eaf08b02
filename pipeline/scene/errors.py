"""Scene problems: each has a line, a dotted field path and a message."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path


class SceneIssue(typing.NamedTuple):
    path: tuple
    message: str


class SceneError(Exception):
    """One or more problems in a scene file, each with its line and field."""

    def __init__(self, file: Path, problems: list[tuple[int, str, str]]):
        self.file = file
        self.problems = problems  # (line, dotted field path, message); line may name an override instead
        super().__init__(self.render())

    def render(self) -> str:
        lines = []
        for line, field, message in self.problems:
            if isinstance(line, str):  # not the file: an override ('--set dream.step=x', 'rows.csv:3')
                where = f"{line}:"
            else:
                where = f"{self.file}:{line}:" if line else f"{self.file}:"
            lines.append(f"{where} {field}: {message}" if field else f"{where} {message}")
        return "\n".join(lines)


class WithinKey(ValueError):
    """A value inside a mapping is wrong: the problem's path goes on to its key (`layers.edges`)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""

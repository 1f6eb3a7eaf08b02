"""Whether a run may replace a file already at its output: decided first, before anything else is said.

At a terminal the user is asked, as ffmpeg asks; anywhere else (a pipeline, a
`--jobs` child, a scheduler) there is nobody to answer, so the run is refused
at once with the flags that settle it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .outcome import EXIT_BAD_INPUT, EXIT_INTERRUPTED


def at_a_terminal() -> bool:
    """Someone can see a question and answer it: stdin and stdout are both a terminal."""
    return sys.stdin is not None and sys.stdout is not None and sys.stdin.isatty() and sys.stdout.isatty()


def may_replace(target: Path, overwrite: bool) -> tuple[int | None, bool]:
    """(None, overwrite) when `target` may be written: nothing is there, --overwrite was given, or
    the user said yes (then overwrite is True); else (the exit code, False) after one line saying why not."""
    if overwrite or not os.path.lexists(target):
        return None, overwrite
    if not at_a_terminal():
        print(f"{target} exists: add --overwrite to replace it, or --out to write elsewhere", file=sys.stderr)
        return EXIT_BAD_INPUT, False
    print(f"{target} exists. Overwrite? [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        answer = ""
    except KeyboardInterrupt:  # Ctrl-C is a no, and a stop
        print(file=sys.stderr)
        return EXIT_INTERRUPTED, False
    if answer.strip().lower() in ("y", "yes"):
        return None, True
    print(f"Not overwriting {target} (--overwrite replaces it, --out writes elsewhere).", file=sys.stderr)
    return EXIT_BAD_INPUT, False

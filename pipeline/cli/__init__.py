"""The command line: `python render.py`, `python -m pipeline` and `dreamzoom` all run `main`."""

from .commands import main

__all__ = ["main"]

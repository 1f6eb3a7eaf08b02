"""What the library logs, shown as the command's own lines on stderr."""

from __future__ import annotations

import contextlib
import logging
import sys


class _Stderr(logging.Handler):
    """Each message as a plain line on the stderr of the moment (a test or a caller may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr)
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def library_messages():
    """Within: the `dreamzoom` logger's messages, info and up, are printed to stderr as they are
    written, with nothing added. The logger is as it was afterwards."""
    logger = logging.getLogger("dreamzoom")
    handler, level = _Stderr(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

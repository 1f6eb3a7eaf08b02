"""A render's pieces: the one place that writes, keeps track of and joins them.

Pieces live in a work folder beside the output (`.NAME.work/`), named by
their first timeline frame. A piece counts as finished only once its writer
has closed and its data is on the disk; the checkpoint lists finished pieces
by name, so anything else in the folder is a leftover of an interrupted piece.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .handoff import BackgroundWriter
from .sinks import Sink
from .verify import Damaged


def sync(path: Path) -> None:
    """Force a finished piece (file, or folder of files) onto the disk before a
    checkpoint names it, so a power cut cannot leave a checkpoint without its data."""
    for item in sorted(path.iterdir()) if path.is_dir() else [path]:
        with open(item, "rb") as file:
            os.fsync(file.fileno())


class Pieces:
    def __init__(self, folder: Path, sink: Sink, finished: list[str] | None = None):
        self.folder, self.sink = folder, sink
        self.finished = list(finished or [])  # names inside the folder, in order

    def open(self, first: int) -> BackgroundWriter:
        """Start the piece whose first frame is `first`; frames go to ffmpeg on a thread."""
        path = self.folder / f"piece_{first:06d}{self.sink.piece_suffix}"
        return BackgroundWriter(self.sink.open_piece(path, first))

    def finish(self, writer: BackgroundWriter) -> None:
        """Close a piece (ffmpeg drains its look-ahead), check it decodes to what was written,
        put it on the disk and count it."""
        finished = writer.finish()
        self.sink.verify_piece(finished, first_frame(finished.name), writer.writer.frames_written)
        sync(finished)
        self.finished.append(finished.name)

    def verify(self, next_frame: int) -> None:
        """Damaged unless every finished piece is still there and decodes to its frames;
        the pieces end where the frame `next_frame` would begin."""
        firsts = [first_frame(name) for name in self.finished] + [next_frame]
        for index, (name, first, end) in enumerate(zip(self.finished, firsts, firsts[1:])):
            path = self.folder / name
            try:
                if not path.exists():
                    raise Damaged(f"{name} is missing from {self.folder}")
                self.sink.verify_piece(path, first, end - first)
            except Damaged as damaged:
                damaged.piece = index
                raise

    def drop_from(self, index: int) -> int:
        """Forget the finished pieces from `index` on (deleting their files); returns the first
        frame they held, from which the render must write again."""
        first = first_frame(self.finished[index])
        for name in self.finished[index:]:
            remove(self.folder / name)
        del self.finished[index:]
        return first

    def remove_leftovers(self, keep: set[str]) -> None:
        """Delete what an interrupted piece left behind: anything not finished and not in `keep`."""
        for name in set(p.name for p in self.folder.iterdir()) - set(self.finished) - keep:
            remove(self.folder / name)

    def join(self, target: Path, unfinished: BackgroundWriter | None = None) -> Path:
        """Join the finished pieces (and the frames of an unfinished one, closed here) into `target`."""
        names = list(self.finished)
        if unfinished is not None:
            unfinished.finish()  # playable, but not a finished piece
            names.append(unfinished.path.name)
        if self.sink.video.reverse:  # the last piece dreamed is the first the viewer sees
            names.reverse()
        remove(target)
        return self.sink.join([self.folder / name for name in names], target)

    def join_verified(self, target: Path, next_frame: int, frame_count: int) -> Path:
        """The final join: every piece checked again, the joined file checked once more
        (all `frame_count` frames decode) before anyone may rename it into place."""
        self.verify(next_frame)
        joined = self.join(target)
        try:
            self.sink.verify_output(joined, frame_count)
        except Damaged:
            remove(joined)
            raise
        return joined


def first_frame(name: str) -> int:
    """A piece's first timeline frame, from its name piece_NNNNNN[.suffix]."""
    return int(Path(name).stem.removeprefix("piece_"))


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)

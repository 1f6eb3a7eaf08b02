"""A `--jobs` batch on one page: each child reports to the parent's server.

The parent hands each child, in its environment (not its command line, which other users
of the machine can read), a report address on its own server and a random token:
DREAMZOOM_LIVE=http://127.0.0.1:PORT/report/N and DREAMZOOM_LIVE_TOKEN. The child's
render feeds a RemoteFeed like any other; a thread of the child posts its state twice a
second when it changed, and the latest frame as a JPEG when the parent says a page asked
for it (and the last one at the end). The parent keeps each child's last report in a
Mirror that the page reads like a local scene. A report that cannot be delivered is
dropped: the render never waits for, nor fails because of, the page.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

from .feed import STATES, Feed, state_of

TOKEN_HEADER, INDEX_HEADER = "X-Dreamzoom-Token", "X-Frame-Index"
REPORT_EVERY = 0.5  # seconds
POST_TIMEOUT = 2.0


class RemoteFeed(Feed):
    """A child's scene: fed by its render as a local one is, sent to the parent from a thread."""

    def __init__(self, name: str, address: str, token: str):
        super().__init__(name)
        self.address, self.token = urlsplit(address), token
        self.sent_status, self.sent_frame = None, None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="live report", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(REPORT_EVERY):
            self.send()

    def ended(self, code: int) -> None:
        super().ended(code)
        self.stop.set()
        self.thread.join(POST_TIMEOUT)
        self.send(last=True)

    def send(self, last: bool = False) -> None:
        try:
            self._send(last)
        except Exception:  # whatever goes wrong with the page is the page's loss, never the render's
            pass

    def _send(self, last: bool) -> None:
        """Post the state if it changed, and the latest frame if a page asked (or at the end)."""
        status = self.snapshot()
        status["storyboard"] = str(self.storyboard) if status["storyboard"] else None  # the parent serves it
        body = json.dumps(status).encode()
        if body == self.sent_status and not last:
            return
        answer = self._post("", body, "application/json")
        if answer is None:
            return
        self.sent_status = body
        want = last or json.loads(answer or b"{}").get("want_frame", False)
        frame = self.frames.jpeg() if want and self.frames.ready not in (None, self.sent_frame) else None
        if frame is not None and self._post("/frame", frame[1], "image/jpeg", {INDEX_HEADER: str(frame[0])}):
            self.sent_frame = frame[0]

    def _post(self, tail: str, body: bytes, kind: str, headers: dict | None = None) -> bytes | None:
        """POST to the parent (never through a proxy); the answer, or None when it did not arrive."""
        import http.client

        connection = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=POST_TIMEOUT)
        try:
            connection.request("POST", self.address.path + tail, body,
                               {"Content-Type": kind, TOKEN_HEADER: self.token, **(headers or {})})
            response = connection.getresponse()
            answer = response.read()
            return answer if response.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            connection.close()


class Mirror:
    """A child's scene as the parent knows it: its last report, checked field by field."""

    def __init__(self, name: str, frames: int = 0):
        self.name = name
        self.status = {"scene": name, "state": "waiting", "frame": 0, "frames": frames, "fps": None, "eta_s": None,
                       "segment": None, "shown": None, "timeline": [], "storyboard": False}
        self.frame: tuple[int, bytes] | None = None
        self.storyboard: Path | None = None
        self.want = True  # a page asked for a newer frame than the child last sent
        self.over = False

    def report(self, data) -> None:
        if self.over or not isinstance(data, dict):
            return
        checks = {"state": lambda v: v in STATES, "frame": _count, "frames": _count, "segment": _count,
                  "shown": _count, "fps": _number, "eta_s": _number, "timeline": _timeline}
        self.status.update({key: data[key] for key, ok in checks.items() if key in data and ok(data[key])})
        board = data.get("storyboard")
        if isinstance(board, str) and board.endswith(".storyboard.png"):
            self.storyboard = Path(board)

    def expect(self, frames: int) -> None:
        if self.status["state"] == "waiting":
            self.status["frames"] = frames

    def upload(self, index: int, jpeg: bytes) -> None:
        self.frame, self.want = (index, jpeg), False

    def ended(self, code: int) -> None:
        """The child is gone: its exit code has the last word (a killed child reports nothing)."""
        if not self.over:
            self.over = True
            self.status["state"] = state_of(code)
            self.status["eta_s"] = 0.0 if code == 0 else None

    def snapshot(self) -> dict:
        return {**self.status, "scene": self.name, "shown": self.frame[0] if self.frame else None,
                "storyboard": self.storyboard_file() is not None}

    def jpeg(self) -> tuple[int, bytes] | None:
        self.want = True
        return self.frame

    def storyboard_file(self) -> Path | None:
        return self.storyboard if self.storyboard is not None and self.storyboard.is_file() else None


def _count(value) -> bool:
    return value is None or (type(value) is int and 0 <= value < 1 << 40)


def _number(value) -> bool:
    return value is None or (type(value) in (int, float) and 0 <= value < 1e12)


def _timeline(value) -> bool:
    return isinstance(value, list) and len(value) <= 10_000 and all(
        isinstance(s, dict) and _count(s.get("first")) and _count(s.get("last")) and isinstance(s.get("label"), str)
        for s in value)

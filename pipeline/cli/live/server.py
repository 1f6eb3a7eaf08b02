"""The live page's server: the standard library's threading HTTP server, on its own threads.

GET / (the page), /status.json, /events (the same status as server-sent events, pushed
when it changes), /frame.jpg and /storyboard.png (?scene=N, default the scene rendering);
POST /report/N and /report/N/frame for a `--jobs` child's reports (remote.py). Bound to
127.0.0.1 unless --serve-host says otherwise; while bound to loopback, a request naming
another host is refused, so a web page elsewhere cannot reach it through DNS rebinding.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import json
import re
import secrets
import socket
import sys
import threading
import time
from importlib import resources
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ...session.signals import stop_handler
from .feed import Feed, state_of
from . import ADDRESS, TOKEN
from .remote import INDEX_HEADER, TOKEN_HEADER, Mirror

GRACE_S = 3.0  # an open page gets this long to show how the run ended before the server stops
RECENT_S = 10.0  # a page that asked for anything this recently is taken to be open
STREAM_EVERY = 0.25  # seconds between looks at the status for each event stream
KEEPALIVE_S = 15.0
MAX_STREAMS = 32  # event streams open at once; more pages are told to come back later
MAX_REPORT, MAX_FRAME = 1 << 20, 64 << 20  # bytes a child may post
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
PAGE = resources.files(__package__).joinpath("page.html").read_bytes()  # self-contained: inline CSS and script
PAGE_POLICY = ("default-src 'none'; img-src 'self' data:; connect-src 'self'; style-src 'unsafe-inline'; "
               "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class LiveError(Exception):
    """Why the page cannot be served, in one line naming the option."""


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


class Board:
    """Every scene of the run, as the page sees it: a local Feed, or a Mirror of a `--jobs` child."""

    def __init__(self, names: list[str]):
        keys = {}
        for name in names:
            keys.setdefault(Path(name).resolve(), name)
        self.keys = list(keys)
        self.entries: list[Feed | Mirror] = [Feed(name) for name in keys.values()]
        self.token = secrets.token_urlsafe(24)
        self.outcome: str | None = None  # the run's state once it has ended
        self.seen = float("-inf")  # when a page last asked for anything
        self.streams = 0
        self.lock = threading.Lock()
        self.closing = threading.Event()

    def index(self, path) -> int:
        return self.keys.index(Path(path).resolve())

    def status(self) -> dict:
        scenes = [entry.snapshot() for entry in self.entries]
        active = [i for i, s in enumerate(scenes) if s["state"] == "rendering"]
        begun = [i for i, s in enumerate(scenes) if s["state"] != "waiting"]
        at = (active or begun[-1:] or [0])[0]
        current = scenes[at]
        state = self.outcome or "rendering"
        if len(scenes) == 1:
            frame, frames, fps, eta = current["frame"], current["frames"], current["fps"], current["eta_s"]
        else:
            frame, frames = sum(s["frame"] for s in scenes), sum(s["frames"] for s in scenes)
            rates = [scenes[i]["fps"] for i in active if scenes[i]["fps"]]
            fps = round(sum(rates), 3) if rates else None
            eta = round(max(0.0, (frames - frame) / fps), 1) if fps else None
        if state != "rendering":
            eta = 0.0 if state == "done" else None
        return {"state": state, "frame": frame, "frames": frames, "fps": fps, "eta_s": eta,
                "segment": current["segment"], "scene": current["scene"], "current": at,
                "scenes": scenes}

    def pick(self, query: dict) -> Feed | Mirror | None:
        """The scene `?scene=N` names, by default the one rendering; None for anything else."""
        asked = query.get("scene", [None])[0]
        if asked is None:
            return self.entries[self.status()["current"]]
        if not re.fullmatch(r"[0-9]{1,6}", asked) or int(asked) >= len(self.entries):
            return None
        return self.entries[int(asked)]


class Handler(BaseHTTPRequestHandler):
    server_version = "dreamzoom"
    timeout = 10  # seconds a client may stall a read or a write

    @property
    def board(self) -> Board:
        return self.server.board

    def log_message(self, format, *args) -> None:  # the render's terminal is not a request log
        pass

    def do_GET(self) -> None:
        self.route(body=True)

    def do_HEAD(self) -> None:
        self.route(body=False)

    def route(self, body: bool) -> None:
        if not self.host_allowed():
            return self.reply(403, b"open this page at 127.0.0.1 or localhost\n", "text/plain", body)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.board.seen = time.monotonic()
        if url.path == "/":
            return self.reply(200, PAGE, "text/html; charset=utf-8", body, {"Content-Security-Policy": PAGE_POLICY})
        if url.path == "/status.json":
            return self.reply(200, json.dumps(self.board.status()).encode(), "application/json", body)
        if url.path == "/events":
            return self.events(body)
        entry = self.board.pick(query) if url.path in ("/frame.jpg", "/storyboard.png") else None
        if entry is None:
            return self.reply(404, b"not found\n", "text/plain", body)
        if url.path == "/frame.jpg":
            frame = entry.jpeg()
            if frame is None:
                return self.reply(503, b"no frame yet\n", "text/plain", body, {"Retry-After": "1"})
            return self.reply(200, frame[1], "image/jpeg", body, {INDEX_HEADER: str(frame[0])})
        try:
            return self.reply(200, entry.storyboard_file().read_bytes(), "image/png", body)
        except (OSError, AttributeError):  # none, or gone since
            return self.reply(404, b"no storyboard\n", "text/plain", body)

    def host_allowed(self) -> bool:
        """Bound to loopback: only requests for a loopback name (a rebound DNS name is refused)."""
        if not _is_loopback(self.server.server_address[0]):
            return True
        host = self.headers.get("Host")
        try:
            return host is None or urlsplit("//" + host).hostname in LOOPBACK_NAMES
        except ValueError:
            return False

    def reply(self, code: int, data: bytes, kind: str, body: bool = True, headers: dict | None = None) -> None:
        self.send_response(code)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(data)), "Cache-Control": "no-store",
                            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                            **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def events(self, body: bool) -> None:
        """The status as server-sent events, each time it changes, until the server stops."""
        board = self.board
        with board.lock:
            full = board.streams >= MAX_STREAMS
            board.streams += not full
        if full:
            return self.reply(503, b"too many pages open\n", "text/plain", body, {"Retry-After": "5"})
        try:
            self.send_response(200)
            for name, value in (("Content-Type", "text/event-stream"), ("Cache-Control", "no-store"),
                                ("X-Content-Type-Options", "nosniff")):
                self.send_header(name, value)
            self.end_headers()
            last, quiet = None, 0.0
            while body:
                text = json.dumps(board.status())
                if text != last:
                    self.wfile.write(f"data: {text}\n\n".encode())
                    last, quiet = text, 0.0
                elif quiet >= KEEPALIVE_S:  # finds out whether the page is still there
                    self.wfile.write(b": still rendering\n\n")
                    quiet = 0.0
                self.wfile.flush()
                board.seen = time.monotonic()
                if board.closing.wait(STREAM_EVERY):
                    break
                quiet += STREAM_EVERY
        except OSError:  # the page went away
            pass
        finally:
            with board.lock:
                board.streams -= 1

    def do_POST(self) -> None:
        """A `--jobs` child's report: its state (answered with whether a page wants a frame), or a frame."""
        match = re.fullmatch(r"/report/([0-9]{1,6})(/frame)?", urlsplit(self.path).path)
        if match is None:
            return self.reply(404, b"not found\n", "text/plain")
        token = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode("utf-8", "replace"), self.board.token.encode()):
            return self.reply(403, b"wrong token\n", "text/plain")
        index = int(match[1])
        mirror = self.board.entries[index] if index < len(self.board.entries) else None
        if not isinstance(mirror, Mirror):
            return self.reply(404, b"no such child\n", "text/plain")
        limit = MAX_FRAME if match[2] else MAX_REPORT
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self.reply(411, b"length required\n", "text/plain")
        if not 0 <= length <= limit:
            return self.reply(413, b"too large\n", "text/plain")
        data = self.rfile.read(length)
        if match[2]:
            shown = self.headers.get(INDEX_HEADER, "")
            if not data.startswith(b"\xff\xd8") or not re.fullmatch(r"[0-9]{1,12}", shown):
                return self.reply(400, b"a JPEG and its frame index\n", "text/plain")
            mirror.upload(int(shown), data)
            return self.reply(200, b"{}", "application/json")
        try:
            mirror.report(json.loads(data))
        except ValueError:
            return self.reply(400, b"JSON\n", "text/plain")
        return self.reply(200, json.dumps({"want_frame": mirror.want}).encode(), "application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:  # a page's trouble is never the render's
        pass


def _listening(host: str, port: int) -> Server:
    """The server, bound and listening, or LiveError in one line."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    except (socket.gaierror, UnicodeError):
        raise LiveError(f"--serve-host {host}: no such address on this machine") from None
    server_class = type("Server", (Server,), {"address_family": family})
    try:
        return server_class((host, port), Handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            message = f"--serve {port}: port {port} on {host} is in use: choose another, or --serve 0 for any free one"
        elif error.errno == errno.EACCES:
            message = (f"--serve {port}: no permission to listen on port {port} (below 1024 needs root): "
                       "choose one from 1024 to 65535, or 0 for any free one")
        elif error.errno == errno.EADDRNOTAVAIL:
            message = f"--serve-host {host}: not an address of this machine"
        else:
            message = f"--serve {port}: cannot listen on {host}: {error.strerror or error}"
        raise LiveError(message) from None


class Live:
    """The page of one run: started before anything is rendered, stopped when the run has ended."""

    def __init__(self, names: list[str], port: int, host: str | None = None):
        host = host or "127.0.0.1"
        self.board = Board(names)
        self.server = _listening(host, port)
        self.server.board = self.board
        bound, self.port = self.server.server_address[:2]
        self.loopback = _is_loopback(bound)
        shown = f"[{bound}]" if ":" in bound else bound
        if not self.loopback:
            say(f"warning: --serve-host {host}: anyone who can reach this machine on port {self.port} can watch "
                "the render (the page has no password); without --serve-host it stays on 127.0.0.1")
        self.url = f"http://{shown}:{self.port}/"
        say(f"Live page: {self.url}")
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="live page", daemon=True)
        self.thread.start()

    def feed(self, path) -> Feed:
        """The feed of a scene rendered in this process."""
        return self.board.entries[self.board.index(path)]

    def child_env(self, path) -> dict:
        """The environment that makes a `--jobs` child report this scene here (remote.py)."""
        index = self.board.index(path)
        before = self.board.entries[index]
        self.board.entries[index] = Mirror(before.name, before.snapshot()["frames"])
        host, port = self.server.server_address[:2]
        if ipaddress.ip_address(host.split("%")[0]).is_unspecified:  # every interface: loopback among them
            host = "::1" if ":" in host else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return {ADDRESS: f"http://{host}:{port}/report/{index}", TOKEN: self.board.token}

    def expect(self, path, scene) -> None:
        """A valid scene of a batch: its frames count before it begins."""
        self.board.entries[self.board.index(path)].expect(scene.frame_count + scene.loop_frames)

    def ended(self, path, code: int) -> None:
        self.board.entries[self.board.index(path)].ended(code)

    def finish(self, code: int) -> None:
        """The run has ended with exit `code`: every scene not yet ended ends with it."""
        for entry in self.board.entries:
            entry.ended(code)
        self.board.outcome = state_of(code)

    def stop(self) -> None:
        """Stop serving; an open page first gets a moment to show how the run ended (a stop signal cuts it short)."""
        board = self.board
        if board.streams or time.monotonic() - board.seen < RECENT_S:
            cut = threading.Event()
            with stop_handler(lambda signum, frame: cut.set()):
                cut.wait(GRACE_S)
        board.closing.set()
        self.server.shutdown()
        self.server.server_close()


def say(message: str) -> None:
    print(message, file=sys.stderr)

"""The live page (--serve): what a browser sees, what status.json says, and what an attacker gets.

The browser is a real headless Chromium from the system's packages (`apt-get install chromium`),
driven by Playwright. Renders run in this process on the session's inception_v3 and wait at a
gate before one frame, so a page is read mid-render without racing the render.
"""

import errno
import http.client
import importlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

import imageio.v3 as iio
import pytest
import yaml
from PIL import Image

from pipeline.cli import main
from pipeline.cli.live import feed as live_feed, server as live_server
from pipeline.cli.live.remote import Mirror
from tests.helpers import ROOT, signal_self_when
from tests.test_architecture import poisoned_torch

GATE = 3  # the render waits before dreaming this frame until the test opens the gate
SCENE = {
    "size": [80, 80], "fps": 8, "frames": 10, "start": "logo.png",
    "dream": {"octaves": 1, "iterations": 1, "step": 0.03},
    "segments": [{"frames": [0, 4], "layers": "edges"}, {"frames": [5, 9], "layers": "circles"}],
}
FLAGS = ("--device", "cpu", "--full", "--quiet")


@pytest.fixture
def chromium():
    """Chromium's path; without it (or Playwright) the browser tests skip, except in CI, where they must run."""
    path = shutil.which("chromium")
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        reason = "Playwright is not installed: pip install -e '.[test]'"
    else:
        reason = None if path else "Chromium is not installed: apt-get install chromium"
    if reason and (os.environ.get("CI") or os.environ.get("DREAMZOOM_BROWSER_TESTS") == "required"):
        pytest.fail(f"{reason} (CI runs the browser tests; .ci/run installs both)")
    if reason:
        pytest.skip(reason)
    return path


@pytest.fixture
def gate(monkeypatch):
    """An Event: the render waits before dreaming frame GATE until it is set."""
    from pipeline.session import recipe

    opened = threading.Event()
    step = recipe.Dreamer.step

    def gated(self, spec):
        if spec.index == GATE:
            opened.wait(120)
        return step(self, spec)

    monkeypatch.setattr(recipe.Dreamer, "step", gated)
    yield opened
    opened.set()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, path: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    """(status, headers, body) of one request to the page's server (never through a proxy)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def status(port: int) -> dict:
    code, _, body = request(port, "/status.json")
    assert code == 200
    return json.loads(body)


def until(ready, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not (value := ready()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def served(port: int) -> bool:
    try:
        return request(port, "/status.json")[0] == 200
    except OSError:
        return False


def alongside(work):
    """Run work() on a thread (the render holds the main thread, where its signal handlers live);
    returns a function that waits for it and gives its result or raises its error."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result():
        thread.join(180)
        assert not thread.is_alive(), "the page's side of the test did not finish"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return result


def in_browser(chromium: str, url: str, look):
    """look(page) on a fresh headless Chromium at `url`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            seen = look(page)
            assert not errors, errors
            return seen
        finally:
            browser.close()


def value(page, script: str):
    """A value of the page's (evaluated as a function: the page's policy forbids eval)."""
    return page.evaluate(f"() => {script}")


def tiny(write_scene, name="scene.yaml", **changes):
    return write_scene(yaml.safe_dump({**SCENE, **changes}), name)


# ---------------------------------------------------------------- in a browser

@pytest.mark.browser
def test_the_page_shows_the_latest_frame_and_progress_that_advances(write_scene, command, gate, chromium):
    scene = tiny(write_scene)
    (scene.parent / "renders").mkdir()
    Image.new("RGB", (120, 60), "#336699").save(scene.parent / "renders" / "scene.storyboard.png")  # approved earlier
    port = free_port()

    def look(page):
        until(lambda: value(page, "document.getElementById('progress').value") == GATE, "the gated frame")
        until(lambda: value(page, "document.querySelector('img.frame').naturalWidth"), "the frame on the page")
        first = value(page, "document.getElementById('progress').value")
        seen = {
            "width": value(page, "document.querySelector('img.frame').naturalWidth"),
            "timeline": value(page, "[...document.querySelectorAll('.segment')].map(b => b.className)"),
            "numbers": value(page, "document.getElementById('numbers').textContent"),
            "storyboard": value(page, "document.querySelector('details').hidden || "
                                      "document.querySelector('img.storyboard').naturalWidth"),
            "status": status(port),
        }
        gate.set()
        until(lambda: value(page, "document.getElementById('state').textContent") == "done", "done", 60)
        seen["advanced"] = (first, value(page, "document.getElementById('progress').value"))
        until(lambda: value(page, "document.querySelector('img.frame').src.endsWith('&i=9') && "
                                  "document.querySelector('img.frame').complete"), "the last frame", 10)
        seen["done"] = status(port)
        return seen

    def watch():
        try:
            until(lambda: served(port), "the page's server")
            return in_browser(chromium, f"http://127.0.0.1:{port}/", look)
        finally:
            gate.set()  # whatever happened, the render goes on

    seen = alongside(watch)
    result = command(scene, "--serve", port, *FLAGS)
    seen = seen()
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"Live page: http://127.0.0.1:{port}/"  # 127.0.0.1 by default
    assert seen["width"] == 80 and seen["storyboard"] == 120
    assert seen["advanced"] == (GATE, 10)
    assert seen["timeline"] == ["segment now", "segment"]
    assert "3 of 10 frames" in seen["numbers"] and "frames/s" in seen["numbers"] and "ETA" in seen["numbers"]
    mid = seen["status"]
    assert {k: mid[k] for k in ("state", "frame", "frames", "segment")} == {
        "state": "rendering", "frame": GATE, "frames": 10, "segment": 0}
    assert mid["fps"] > 0 and 0 < mid["eta_s"] < 3600 and mid["scenes"][0]["shown"] == GATE - 1
    assert mid["scenes"][0]["timeline"] == [{"first": 0, "last": 4, "label": "edges"},
                                            {"first": 5, "last": 9, "label": "circles"}]
    done = seen["done"]
    assert (done["state"], done["frame"], done["frames"], done["eta_s"]) == ("done", 10, 10, 0.0)
    assert not served(port)  # stopped after its grace period


@pytest.mark.browser
def test_jobs_show_every_scene_on_the_parents_page(write_scene, chromium):
    """--jobs 2: the children report to the parent, which serves one page (port 0: any free one)."""
    scenes = [tiny(write_scene, f"job{i}.yaml", model="efficientnet_lite0", weights="random", frames=6,
                   segments=[{"frames": [0, 5], "layers": "edges"}]) for i in range(2)]
    parent = subprocess.Popen([sys.executable, str(ROOT / "render.py"), *map(str, scenes), *FLAGS, "--jobs", "2",
                               "--serve", "0"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        first = parent.stderr.readline()
        assert first.startswith("Live page: http://127.0.0.1:"), first
        url = first.split()[-1]
        said = []
        drain = threading.Thread(target=lambda: said.extend(parent.stderr), daemon=True)
        drain.start()

        def look(page):
            until(lambda: value(page, "[...document.querySelectorAll('section.scene .state')]"
                                      ".map(s => s.textContent).join()") == "done,done", "both scenes done", 240)
            until(lambda: value(page, "[...document.querySelectorAll('img.frame')].map(i => i.naturalWidth).join()")
                  == "80,80", "a frame of each scene")
            until(lambda: value(page, "document.getElementById('state').textContent") == "done", "the run's end")
            names = value(page, "[...document.querySelectorAll('section.scene .name')].map(n => n.textContent)")
            return names, status(int(url.rstrip("/").rsplit(":", 1)[1]))

        names, final = in_browser(chromium, url, look)
        assert parent.wait(120) == 0, "".join(said)
    finally:
        parent.kill()
    assert [os.path.basename(name) for name in names] == ["job0.yaml", "job1.yaml"]
    assert final["state"] == "done" and (final["frame"], final["frames"]) == (12, 12)
    assert [(s["state"], s["frame"], s["frames"]) for s in final["scenes"]] == [("done", 6, 6)] * 2


# ---------------------------------------------------------------- as an attacker would

@pytest.mark.slow
def test_what_a_page_cannot_do_does_not_touch_the_render(write_scene, command, gate, monkeypatch):
    """Unknown paths, HEAD, other hosts, forged reports, many pages and pages that vanish mid-stream,
    a client that stalls: the render goes on and finishes; two scenes in sequence share the page."""
    monkeypatch.setattr(live_server, "GRACE_S", 0.5)
    scenes = [tiny(write_scene, "first.yaml"), tiny(write_scene, "second.yaml")]
    port = free_port()

    def attack():
        try:
            until(lambda: served(port) and status(port)["frame"] == GATE, "the gated frame")
            seen = {"status": status(port)}
            seen["missing"] = [request(port, path)[0] for path in (
                "/nope", "/frame.jpg?scene=9", "/frame.jpg?scene=x", "/storyboard.png", "/%2e%2e/etc/passwd")]
            head = request(port, "/", "HEAD")
            seen["head"] = (head[0], int(head[1]["Content-Length"]) > 1000, head[2])
            seen["frame_head"] = request(port, "/frame.jpg", "HEAD")[1]["Content-Type"]
            seen["other_host"] = request(port, "/status.json", headers={"Host": "rebound.example:80"})[0]
            seen["forged"] = [request(port, "/report/0", "POST", {"X-Dreamzoom-Token": token}, b"{}")[0]
                              for token in ("", "guess")]
            seen["put"] = request(port, "/", "PUT")[0]
            stalled = socket.create_connection(("127.0.0.1", port))
            stalled.sendall(b"GET / HTTP/1.1\r\n")  # and never more
            streams = []
            for _ in range(live_server.MAX_STREAMS + 4):
                stream = socket.create_connection(("127.0.0.1", port), timeout=10)
                stream.sendall(b"GET /events HTTP/1.0\r\n\r\n")
                streams.append((stream, stream.recv(4096)))
            seen["streams"] = [answer.split(b" ", 2)[1] for _, answer in streams]
            for stream, _ in streams:  # gone mid-stream, some with a reset
                stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                stream.close()
            frames = []
            workers = [threading.Thread(target=lambda: frames.append(request(port, "/frame.jpg"))) for _ in range(16)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            seen["frames"] = {(code, len(body) > 0, body[:2]) for code, _, body in frames}
            gate.set()
            seen["later"] = until(lambda: (s := status(port))["scenes"][1]["state"] != "waiting" and s, "scene 2")
            seen["end"] = until(lambda: (s := status(port))["state"] != "rendering" and s, "the end", 60)
            stalled.close()
            return seen
        finally:
            gate.set()

    seen = alongside(attack)
    result = command(*scenes, "--serve", port, *FLAGS)
    seen = seen()
    assert result.returncode == 0, result.stderr
    for name in ("first", "second"):
        assert iio.imread(scenes[0].parent / "renders" / f"{name}.mp4").shape[0] == 10
    mid = seen["status"]
    assert [(s["state"], s["frame"]) for s in mid["scenes"]] == [("rendering", GATE), ("waiting", 0)]
    assert seen["missing"] == [404] * 5
    assert seen["head"] == (200, True, b"")
    assert seen["frame_head"] == "image/jpeg"
    assert seen["other_host"] == 403
    assert seen["forged"] == [403, 403]
    assert seen["put"] == 501
    assert seen["streams"] == [b"200"] * live_server.MAX_STREAMS + [b"503"] * 4
    assert seen["frames"] == {(200, True, b"\xff\xd8")}
    assert seen["later"]["current"] == 1 and seen["later"]["scenes"][0]["state"] == "done"
    end = seen["end"]
    assert end["state"] == "done" and (end["frame"], end["frames"]) == (20, 20)
    assert [(s["state"], s["frame"], s["frames"]) for s in end["scenes"]] == [("done", 10, 10)] * 2


@pytest.mark.slow
def test_a_stopped_render_reads_interrupted(write_scene, command, gate, monkeypatch):
    monkeypatch.setattr(live_server, "GRACE_S", 0.5)
    port = free_port()
    at_gate = threading.Event()

    def ready():
        if served(port) and status(port)["frame"] == GATE:
            at_gate.set()
        return at_gate.is_set()

    def watch():
        try:
            until(sent.is_set, "the stop signal")
            gate.set()
            return until(lambda: (s := status(port))["state"] != "rendering" and s, "the end", 60)
        finally:
            gate.set()

    with signal_self_when(ready) as sent:  # as a scheduler stops a render in progress
        end = alongside(watch)
        result = command(tiny(write_scene), "--serve", port, *FLAGS)
        end = end()
    assert result.returncode == 143, result.stderr
    assert (end["state"], end["eta_s"], end["scenes"][0]["state"]) == ("interrupted", None, "interrupted")
    assert end["frame"] <= GATE + 1


@pytest.mark.parametrize("code, state", [(0, "done"), (1, "failed"), (2, "failed"), (75, "failed"),
                                         (130, "interrupted"), (143, "interrupted"), (-9, "failed")])
def test_states_follow_exit_codes(code, state):
    assert live_feed.state_of(code) == state


def test_a_port_in_use_is_one_line_before_anything_is_loaded(write_scene, tmp_path):
    """Exit 2 and one line; torch cannot even be imported here, so nothing was loaded or rendered."""
    scene = tiny(write_scene)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, str(ROOT / "render.py"), str(scene), "--serve", str(port)],
                                capture_output=True, text=True, env=poisoned_torch(tmp_path), cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"--serve {port}: port {port} on 127.0.0.1 is in use: choose another, "
                             "or --serve 0 for any free one\n")
    assert not (tmp_path / "renders").exists()


@pytest.mark.parametrize("flags, message", [
    (["--serve", "abc"], "--serve: a port is a whole number from 1 to 65535, or 0 for any free one (got 'abc')"),
    (["--serve", "-1"], "(got '-1')"),
    (["--serve", "65536"], "(got '65536')"),
    (["--serve", "80.5"], "(got '80.5')"),
    (["--serve", ""], "(got '')"),
    (["--serve-host", "0.0.0.0"], "--serve-host says where --serve listens: add --serve PORT"),
    (["--serve", "0", "--dry-run"], "--serve shows a render as it runs, and --dry-run renders nothing"),
    (["--serve", "0", "--ray"], "--ray renders on the cluster's: use --jobs N to watch several scenes"),
    (["--serve", "0", "--serve-host", "no.such.host.invalid"], "--serve-host no.such.host.invalid: no such address"),
    (["--serve", "0", "--serve-host", "192.0.2.1"], "--serve-host 192.0.2.1: not an address of this machine"),
])
def test_bad_serve_options_are_one_line(write_scene, capsys, flags, message):
    assert main([str(tiny(write_scene)), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_privileged_port_says_what_to_do(monkeypatch):
    """As root any port binds; without root a port below 1024 is refused like this."""
    def refuse(self):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(live_server.Server, "server_bind", refuse)
    with pytest.raises(live_server.LiveError) as caught:
        live_server.Live(["a.yaml"], 80)
    assert str(caught.value) == ("--serve 80: no permission to listen on port 80 (below 1024 needs root): "
                                 "choose one from 1024 to 65535, or 0 for any free one")


def test_every_interface_only_when_asked_and_with_a_warning(capsys, monkeypatch):
    monkeypatch.setattr(live_server, "GRACE_S", 0.1)
    quiet = live_server.Live(["a.yaml"], 0)
    assert quiet.server.server_address[0] == "127.0.0.1"
    quiet.stop()
    assert "warning" not in capsys.readouterr().err
    everywhere = live_server.Live(["a.yaml"], 0, "0.0.0.0")
    try:
        err = capsys.readouterr().err
        assert err.startswith(f"warning: --serve-host 0.0.0.0: anyone who can reach this machine on port "
                              f"{everywhere.port} can watch the render (the page has no password)")
        assert everywhere.child_env("a.yaml")["DREAMZOOM_LIVE"].startswith("http://127.0.0.1:")  # children: loopback
        assert request(everywhere.port, "/", headers={"Host": "render-box.lan"})[0] == 200  # any name, as asked
    finally:
        everywhere.stop()


# ---------------------------------------------------------------- the parts

def test_a_gpu_frame_is_copied_only_when_a_page_asked(monkeypatch):
    """On a GPU the loop starts a copy only after a page asked for a frame, and only one per ask."""
    copies = []

    class Frame:
        is_cuda = True

    class Done:
        def synchronize(self):
            pass

    class Pixels:
        def numpy(self):
            import numpy as np

            return np.zeros((4, 6, 3), np.uint8)

    monkeypatch.setattr(live_feed, "_copy_to_host",
                        lambda frame, host, event: copies.append(host) or (host or Pixels(), event or Done()))
    holder = live_feed.FrameHolder()
    holder.put(0, Frame())  # the first frame is copied: a page opened later has something to show
    holder.put(1, Frame())
    assert len(copies) == 1 and holder.ready == 0
    index, jpeg = holder.jpeg()
    assert index == 0 and jpeg[:2] == b"\xff\xd8"
    holder.put(2, Frame())
    holder.put(3, Frame())
    assert len(copies) == 2 and holder.ready == 2
    assert copies == [None, holder.host]  # one buffer, made once, reused


def test_a_cpu_frame_converts_as_the_video_writer_does():
    import torch

    from pipeline.image.pixels import to_pixels

    frame = torch.rand(1, 3, 9, 11) * 1.2 - 0.1
    assert (live_feed.host_pixels(frame) == to_pixels(frame)).all()


def test_a_childs_report_is_taken_field_by_field():
    mirror = Mirror("a.yaml")
    mirror.report({"state": "rendering", "frame": 3, "frames": 10, "fps": 2.5, "eta_s": 2.8, "segment": 0,
                   "timeline": [{"first": 0, "last": 9, "label": "edges"}], "storyboard": "/etc/passwd"})
    mirror.report({"state": "<script>", "frame": -1, "frames": "many", "fps": float("nan"), "scene": "b.yaml",
                   "timeline": "no"})
    mirror.report(["not", "a", "report"])
    shown = mirror.snapshot()
    assert (shown["scene"], shown["state"], shown["frame"], shown["frames"], shown["fps"]) == (
        "a.yaml", "rendering", 3, 10, 2.5)
    assert shown["timeline"] == [{"first": 0, "last": 9, "label": "edges"}] and mirror.storyboard is None
    mirror.ended(-9)  # killed: it said nothing more
    assert mirror.snapshot()["state"] == "failed"

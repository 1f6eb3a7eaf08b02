"""Several scenes in one call: validated up front, rendered one by one, in
parallel processes (--jobs, one GPU each), or as Ray tasks (--ray), then
summarised in one table. One bad scene never stops the others.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..scene import SceneError, load_scene
from ..session.signals import STOP_SIGNALS, exit_code_for, raising_on_stop, stop_handler
from .args import parse_args, scene_flags
from .messages import library_messages
from .outcome import EXIT_BAD_INPUT, EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Outcome, status_of
from .report import read_report
from .single import render_scene

CANCEL_WAIT = 60  # seconds a cancelled Ray task gets to stop cleanly
INTERRUPTED = tuple(exit_code_for(s) for s in STOP_SIGNALS)  # 130, 143, 129: stopped by a signal


def _finished(path: Path, code: int, report: Path) -> Outcome:
    """A child's outcome: from the report it wrote, else (killed) from its exit code alone."""
    written = read_report(report)
    if written:
        return written[0]
    return Outcome(path, status_of(code), code, output=load_scene(path).output_path)


def run_parallel(paths: list[Path], args, live=None) -> list[Outcome]:
    """Each scene in its own process; GPUs handed out in turn, CPU threads shared; with a live
    page, each child reports to it (live/remote.py)."""
    import torch

    if args.device == "auto" and torch.cuda.is_available():
        devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    else:
        devices = [args.device]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)

    children = Children()
    reports = Path(tempfile.mkdtemp(prefix="dreamzoom-batch-"))

    def one(item):
        index, path = item
        report = reports / f"{index}.json"
        command = [sys.executable, "-m", "pipeline", str(path), "--device", devices[index % len(devices)], "--quiet",
                   "--report", str(report)]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": _package_path(),
               **(live.child_env(path) if live else {})}
        code = children.run(command + scene_flags(args), env)
        outcome = Outcome(path, "skipped", exit_code_for(children.signum)) if code is None else _finished(
            path, code, report)
        if live is not None:
            live.ended(path, outcome.code)
        return outcome

    try:
        with children.forwarding(), ThreadPoolExecutor(max_workers=args.jobs) as pool:
            return list(pool.map(one, enumerate(paths)))
    finally:
        shutil.rmtree(reports, ignore_errors=True)


def _package_path() -> str:
    """PYTHONPATH for a child: this package's folder first, so `python render.py` from a checkout
    that was never installed (or an install that points elsewhere) starts children of the same code."""
    here = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join([here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])


class Children:
    """A batch's child processes. A stop signal to the parent (a scheduler's SIGTERM,
    Ctrl-C, SIGHUP) goes on to every running child, no new one starts, and the parent
    waits for them to checkpoint, so no render outlives the batch."""

    def __init__(self):
        self.running: set[subprocess.Popen] = set()
        self.signum: int | None = None
        self.lock = threading.Lock()

    def run(self, command: list[str], env: dict) -> int | None:
        """The child's exit code, or None when a stop came before it started."""
        with self.lock:
            if self.signum is not None:
                return None
            child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)  # nobody answers a child
            self.running.add(child)
        try:
            return child.wait()
        finally:
            with self.lock:
                self.running.discard(child)

    def _forward(self, signum, frame) -> None:
        with self.lock:
            self.signum = signum
            for child in self.running:
                child.send_signal(signum)

    def forwarding(self):
        """Within: stop signals to this process go on to the children."""
        return stop_handler(self._forward)


@library_messages()
def _ray_task(path: str, flags: list[str], device: str) -> dict:
    """Runs on a Ray worker: the same code path as a local render."""
    args = parse_args([path, "--device", device, "--quiet", *flags])
    outcome = render_scene(Path(path), args)
    return {**outcome.__dict__, "scene": str(outcome.scene), "output": str(outcome.output or "")}


def _ray_outcome(ray, ref, path: Path) -> Outcome:
    try:
        data = ray.get(ref)
    except ray.exceptions.RayError as error:
        print(f"{path}: the Ray task failed: {str(error).splitlines()[0]}", file=sys.stderr)
        return Outcome(path, "failed", EXIT_FAILED)
    return Outcome(Path(data["scene"]), data["status"], data["code"], data["frames"], data["seconds"],
                   Path(data["output"]) if data["output"] else None, data["warnings"])


def run_on_ray(paths: list[Path], args) -> list[Outcome]:
    """One Ray task per scene, one GPU each when the cluster has GPUs."""
    try:
        import ray
    except ImportError:
        print("--ray needs Ray: pip install '.[ray]'", file=sys.stderr)
        return [Outcome(path, "failed", EXIT_FAILED) for path in paths]
    address = None if args.ray == "local" else args.ray
    ray.init(address=address, include_dashboard=False, log_to_driver=True, ignore_reinit_error=True)
    gpus = ray.cluster_resources().get("GPU", 0)
    task = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1, max_retries=0)(_ray_task)
    device = "cuda" if gpus else "cpu"
    pending = {task.remote(str(path), scene_flags(args), device): path for path in paths}
    outcomes = []
    try:
        with raising_on_stop() as caught:
            for ref, path in pending.items():
                outcomes.append(_ray_outcome(ray, ref, path))
    except KeyboardInterrupt:  # cancel what is still running: its render stops as on Ctrl-C
        for ref in pending:
            ray.cancel(ref)
        ray.wait(list(pending), num_returns=len(pending), timeout=CANCEL_WAIT)  # time to checkpoint
        done = {o.scene for o in outcomes}
        outcomes += [Outcome(p, "interrupted", exit_code_for(caught.signum)) for p in paths if p not in done]
    if address is None:
        ray.shutdown()
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    rows = [("scene", "status", "frames", "seconds", "output")]
    for o in outcomes:
        rows.append((str(o.scene), o.status, str(o.frames), f"{o.seconds:.1f}", str(o.output or "")))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def exit_code(outcomes: list[Outcome]) -> int:
    """The worst of the scenes': interrupted (by its signal's code), failed, busy, bad input, done."""
    codes = {o.code for o in outcomes}
    for code in (*INTERRUPTED, EXIT_FAILED, EXIT_BUSY, EXIT_BAD_INPUT):
        if code in codes:
            return code
    return EXIT_OK


def run_batch(args, live=None) -> tuple[int, list[Outcome]]:
    """Validate every scene, render the valid ones, print the table: (the worst exit code, the outcomes).
    `live`: the page that shows every scene."""
    paths = [path.resolve() for path in args.scenes]
    valid, outcomes = [], {}
    for path in paths:
        try:
            scene = load_scene(path)
            valid.append(path)
            if live is not None:
                live.expect(path, scene)
        except SceneError as error:
            print(error.render(), file=sys.stderr)
            outcomes[path] = Outcome(path, "invalid", EXIT_BAD_INPUT)
            if live is not None:
                live.ended(path, EXIT_BAD_INPUT)
    print(f"{len(valid)} of {len(paths)} scenes are valid; rendering them.", file=sys.stderr)
    if args.ray and not args.dry_run:
        results = run_on_ray(valid, args)
    elif args.jobs > 1 and not args.dry_run:  # a plan is printed at once: in order, here
        results = run_parallel(valid, args, live)
    else:
        from ..session.devices import pick_device

        try:
            pick_device(args.device)
        except ValueError as error:
            print(error, file=sys.stderr)
            return EXIT_BAD_INPUT, []
        results = []
        for path in valid:
            results.append(render_scene(path, args, live.feed(path) if live else None))
            if live is not None:
                live.ended(path, results[-1].code)
            if results[-1].status == "interrupted":
                break  # Ctrl-C stops the batch, not just one scene
    outcomes.update({o.scene: o for o in results})
    stopped = next((o.code for o in results if o.status == "interrupted"), EXIT_INTERRUPTED)
    ordered = [outcomes.get(path, Outcome(path, "skipped", stopped)) for path in paths]
    for outcome in ordered if live is not None else ():  # skipped scenes too
        live.ended(outcome.scene, outcome.code)
    table = sys.stderr if args.json else sys.stdout  # stdout holds only the JSON Lines
    print(file=table)
    print(summary(ordered), file=table)
    return exit_code(ordered), ordered

"""Several scenes in one call, or one scene many times (the rows of --batch, the
combinations of --vary: rows.py): validated up front, rendered one by one, in
parallel processes (--jobs, one GPU each), or as Ray tasks (--ray), then
summarised in one table. One bad scene (one bad row) never stops the others.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..scene import SceneError, load_scene
from ..scene.load import declared_vars
from ..scene.templates import TemplateError
from ..session.signals import STOP_SIGNALS, exit_code_for, raising_on_stop, stop_handler
from .args import parse_args, scene_flags, set_overrides
from .messages import library_messages
from .outcome import EXIT_BAD_INPUT, EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Outcome, status_of
from .report import read_report
from .rows import Job, RowsError, parse_vary, read_rows, variants
from .single import render_scene

CANCEL_WAIT = 60  # seconds a cancelled Ray task gets to stop cleanly
INTERRUPTED = tuple(exit_code_for(s) for s in STOP_SIGNALS)  # 130, 143, 129: stopped by a signal


def _finished(path: Path, code: int, report: Path, output: Path | None) -> Outcome:
    """A child's outcome: from the report it wrote, else (killed) from its exit code alone."""
    written = read_report(report)
    if written:
        return written[0]
    return Outcome(path, status_of(code), code, output=output)


def run_parallel(jobs: list[Job], args, live=None, outputs: dict | None = None) -> list[Outcome]:
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
        index, job = item
        path = job.scene
        report = reports / f"{index}.json"
        command = [sys.executable, "-m", "pipeline", str(path), "--device", devices[index % len(devices)], "--quiet",
                   "--report", str(report)]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": _package_path(),
               **(live.child_env(path) if live else {})}
        code = children.run(command + job.flags() + scene_flags(args), env)  # the row's values, then --set's
        outcome = Outcome(path, "skipped", exit_code_for(children.signum)) if code is None else _finished(
            path, code, report, (outputs or {}).get(index))
        if live is not None:
            live.ended(path, outcome.code)
        return outcome

    try:
        with children.forwarding(), ThreadPoolExecutor(max_workers=args.jobs) as pool:
            return list(pool.map(one, enumerate(jobs)))
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


def run_on_ray(jobs: list[Job], args) -> list[Outcome]:
    """One Ray task per scene (per row), one GPU each when the cluster has GPUs."""
    try:
        import ray
    except ImportError:
        print("--ray needs Ray: pip install '.[ray]'", file=sys.stderr)
        return [Outcome(job.scene, "failed", EXIT_FAILED) for job in jobs]
    address = None if args.ray == "local" else args.ray
    ray.init(address=address, include_dashboard=False, log_to_driver=True, ignore_reinit_error=True)
    gpus = ray.cluster_resources().get("GPU", 0)
    task = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1, max_retries=0)(_ray_task)
    device = "cuda" if gpus else "cpu"
    pending = {task.remote(str(job.scene), job.flags() + scene_flags(args), device): job.scene for job in jobs}
    outcomes = []
    try:
        with raising_on_stop() as caught:
            for ref, path in pending.items():
                outcomes.append(_ray_outcome(ray, ref, path))
    except KeyboardInterrupt:  # cancel what is still running: its render stops as on Ctrl-C
        for ref in pending:
            ray.cancel(ref)
        ray.wait(list(pending), num_returns=len(pending), timeout=CANCEL_WAIT)  # time to checkpoint
        outcomes += [Outcome(job.scene, "interrupted", exit_code_for(caught.signum)) for job in jobs[len(outcomes):]]
    if address is None:
        ray.shutdown()
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    rows = [("scene", "status", "frames", "seconds", "output")]
    for o in outcomes:
        rows.append((o.row or str(o.scene), o.status, str(o.frames), f"{o.seconds:.1f}", str(o.output or "")))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def exit_code(outcomes: list[Outcome]) -> int:
    """The worst of the scenes': interrupted (by its signal's code), failed, busy, bad input, done."""
    codes = {o.code for o in outcomes}
    for code in (*INTERRUPTED, EXIT_FAILED, EXIT_BUSY, EXIT_BAD_INPUT):
        if code in codes:
            return code
    return EXIT_OK


def batch_jobs(args, given: list) -> list[Job]:
    """The videos the command asks for: one per scene file, or per row of --batch, times --vary's
    combinations; RowsError or TemplateError (one line) when the rows or --vary cannot be used."""
    paths = [path.resolve() for path in args.scenes]
    if not args.batch and not args.vary:
        return [Job(path) for path in paths]
    declared = declared_vars(paths[0])
    jobs = read_rows(args.batch, paths[0], declared) if args.batch else [Job(paths[0])]
    axes = parse_vary(args.vary or [], declared)

    def output_of(job: Job) -> list[tuple[tuple, Path]] | None:
        if job.problem:
            return None
        try:
            scene = load_scene(job.scene, overrides=job.overrides(given))
        except SceneError:
            return None  # reported with the row
        if scene.deliver:  # each deliverable's output is named after the variant
            return [(("deliver", index, "output"), path) for index, path in enumerate(scene.output_paths)]
        return [(("output",), scene.output_path)]

    return variants(jobs, axes, output_of)


def collisions(valid: list[tuple[int, Job, object]], args) -> list[str]:
    """One line for each row that would write a path another row writes."""
    from ..output.sheets import storyboard_path

    seen, lines = {}, []
    for _, job, scene in valid:
        targets = [storyboard_path(scene.output_path)] if args.storyboard else scene.output_paths  # every deliverable
        for target in (path.resolve() for path in targets):
            if target in seen:
                first = seen[target]
                lines.append(f"{job.row or job.scene}: output {target} is also {first.row or first.scene}'s: give "
                             "each row its own output (an output column, or ${name} in the scene's output)")
            else:
                seen[target] = job
    return lines


def run_batch(args, live=None) -> tuple[int, list[Outcome]]:
    """Validate every scene (every row), render the valid ones, print the table: (the worst exit code,
    the outcomes). `live`: the page that shows every scene."""
    given = set_overrides(args)
    try:
        jobs = batch_jobs(args, given)
    except (RowsError, TemplateError) as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT, []
    valid, outcomes = [], {}
    for index, job in enumerate(jobs):
        try:
            if job.problem:
                print(f"{job.row}: {job.problem}", file=sys.stderr)
                raise LookupError
            scene = load_scene(job.scene, overrides=job.overrides(given))
            valid.append((index, job, scene))
            if live is not None:
                live.expect(job.scene, scene)
        except (SceneError, LookupError) as error:
            if isinstance(error, SceneError):
                print(error.render(), file=sys.stderr)
            outcomes[index] = Outcome(job.scene, "invalid", EXIT_BAD_INPUT, row=job.row, values=job.values)
            if live is not None:
                live.ended(job.scene, EXIT_BAD_INPUT)
    what = "rows" if args.batch else "variants" if args.vary else "scenes"
    clashes = collisions(valid, args) if args.out is None else []
    if clashes:
        for line in clashes:
            print(line, file=sys.stderr)
        print(f"Nothing rendered: two {what} would write one file.", file=sys.stderr)
        return EXIT_BAD_INPUT, [outcomes.get(i, Outcome(job.scene, "skipped", EXIT_BAD_INPUT, row=job.row,
                                                        values=job.values)) for i, job in enumerate(jobs)]
    if args.vary and not args.dry_run and not (args.overwrite or args.resume):
        from ..output.sheets import variants_path

        taken = sorted({str(variants_path(job.base)) for _, job, _ in valid
                        if job.base is not None and variants_path(job.base).exists()})
        if taken:
            print(f"{taken[0]} exists: add --overwrite to replace it (or --resume to keep the variants already "
                  "rendered and make the grid again)", file=sys.stderr)
            return EXIT_BAD_INPUT, []
    print(f"{len(valid)} of {len(jobs)} {what} are valid; " + ("rendering them." if valid else "nothing to render."),
          file=sys.stderr)
    grid_only = bool(args.vary and args.storyboard and not args.dry_run)
    if grid_only:  # only the grid, made below
        results = [Outcome(job.scene, "storyboard", EXIT_OK) for _, job, _ in valid]
    elif args.ray and not args.dry_run:
        results = run_on_ray([job for _, job, _ in valid], args)
    elif args.jobs > 1 and not args.dry_run:  # a plan is printed at once: in order, here
        results = run_parallel([job for _, job, _ in valid], args, live,
                               {n: scene.output_path for n, (_, _, scene) in enumerate(valid)})
    else:
        from ..session.devices import pick_device

        try:
            pick_device(args.device)
        except ValueError as error:
            print(error, file=sys.stderr)
            return EXIT_BAD_INPUT, []
        results = []
        for _, job, _ in valid:
            if args.dry_run and not args.json and job.row:  # which row each plan is
                print(f"\n{job.row}: " + ", ".join(f"{name} = {value}" for name, value in job.values.items()))
            feed = live.feed(job.scene) if live else None
            named = argparse.Namespace(**{**vars(args), "row": job.row})  # said with its plan and its render
            results.append(render_scene(job.scene, named, feed, overrides=job.overrides(given)))
            if live is not None:
                live.ended(job.scene, results[-1].code)
            if results[-1].status == "interrupted":
                break  # Ctrl-C stops the batch, not just one scene
    for (index, job, _), outcome in zip(valid, results):
        outcome.row, outcome.values = job.row, job.values
        outcomes[index] = outcome
    stopped = next((o.code for o in results if o.status == "interrupted"), EXIT_INTERRUPTED)
    ordered = [outcomes.get(i, Outcome(job.scene, "skipped", stopped, row=job.row, values=job.values))
               for i, job in enumerate(jobs)]
    for outcome in ordered if live is not None else ():  # skipped scenes too
        live.ended(outcome.scene, outcome.code)
    code = exit_code(ordered)
    if args.vary and not args.dry_run and code not in INTERRUPTED:
        code = max(code, grids(valid, outcomes, args, grid_only))
    table = sys.stderr if args.json else sys.stdout  # stdout holds only the JSON Lines
    print(file=table)
    print(summary(ordered), file=table)
    return code, ordered


def grids(valid: list, outcomes: dict, args, storyboard: bool) -> int:
    """--vary's grid for each scene (each row): its variants that rendered, or with --storyboard all of them."""
    from ..session.devices import pick_device
    from .variants import write_grids

    groups: dict = {}
    for index, job, scene in valid:
        outcome = outcomes.get(index)
        done = outcome is not None and outcome.status in ("done", "kept")
        groups.setdefault(job.base or scene.output_path, []).append(
            (job.values, scene, scene.output_path if done else None))
    try:
        device = pick_device(args.device)
    except ValueError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    return write_grids(groups, storyboard, device, not args.quiet)

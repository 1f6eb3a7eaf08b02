"""The command: render scenes (one, or a batch), or `layers` / `atlas` / `schema` / `presets` / `check`."""

from __future__ import annotations

import signal
import sys

from ..output.sidecar import invoked_as
from .args import parse_args, set_overrides
from .live import child_feed, serve_problem
from .messages import library_messages
from ..session.signals import exit_code_for, raising_on_stop
from .outcome import EXIT_BAD_INPUT, EXIT_FAILED
from .report import write_report
from .single import render_scene
from .tool_commands import atlas_command, layers_command, presets_command, schema_command


@library_messages()
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "layers":
        return layers_command(argv[1:])
    if argv and argv[0] == "atlas":
        return atlas_command(argv[1:])
    if argv and argv[0] == "schema":
        return schema_command(argv[1:])
    if argv and argv[0] == "presets":
        return presets_command(argv[1:])
    if argv and argv[0] == "check":
        from .check import check_command

        return check_command(argv[1:])
    args = parse_args(argv, invoked_as())
    problem = serve_problem(args)
    try:
        set_overrides(args)  # each --set is PATH=VALUE, before anything is loaded
    except ValueError as error:
        problem = str(error)
    if len(args.scenes) > 1 and args.out is not None:
        problem = "--out names one file: use it with one scene (each scene has its own output)"
    if args.serve is not None and (args.batch is not None or args.vary):
        problem = "--serve shows scene files as they render; it does not follow --batch rows or --vary yet"
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    live = None
    if args.serve is not None:  # the page is up, or its port refused, before anything is loaded or rendered
        from .live.server import Live, LiveError

        try:
            live = Live([str(path) for path in args.scenes], int(args.serve), args.serve_host)
        except LiveError as error:
            print(error, file=sys.stderr)
            return EXIT_BAD_INPUT
    code, outcomes = EXIT_FAILED, []
    try:
        code, outcomes = render_scenes(args, live)
        if live is not None:
            live.finish(code)  # the page shows how it went at once
        if args.report is not None:
            code = reported(args.report, outcomes, code)
    finally:
        if live is not None:
            live.finish(code)
            live.stop()
    return code


def render_scenes(args, live) -> tuple[int, list]:
    """Render one scene or a batch: (the exit code, the outcomes)."""
    outcomes = []
    try:
        with raising_on_stop():  # a stop before a render has begun (loading the model, say) ends here
            if len(args.scenes) == 1 and not args.ray and args.batch is None and not args.vary:
                path = args.scenes[0]
                feed = live.feed(path) if live is not None else child_feed(str(path))
                outcomes = [render_scene(path, args, feed)]
                if feed is not None:
                    feed.ended(outcomes[0].code)
                return outcomes[0].code, outcomes
            from .batch import run_batch

            return run_batch(args, live)
    except KeyboardInterrupt as stop:
        print("Interrupted. Run the same command with --resume to continue.", file=sys.stderr)
        return exit_code_for(getattr(stop, "signum", signal.SIGINT)), outcomes


def reported(report, outcomes: list, code: int) -> int:
    """Write --report; the exit code, made a failure if it cannot be written."""
    try:
        write_report(report, outcomes, code)
    except OSError as error:
        print(f"--report {report}: cannot write it: {error}", file=sys.stderr)
        return max(code, EXIT_FAILED)
    return code

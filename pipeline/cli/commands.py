"""The command: render scenes (one, or a batch), or `layers` / `atlas` / `schema` / `check`."""

from __future__ import annotations

import signal
import sys

from ..output.sidecar import invoked_as
from .args import parse_args
from ..session.signals import exit_code_for, raising_on_stop
from .outcome import EXIT_BAD_INPUT, EXIT_FAILED
from .report import write_report
from .single import render_scene
from .tool_commands import atlas_command, layers_command, schema_command


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "layers":
        return layers_command(argv[1:])
    if argv and argv[0] == "atlas":
        return atlas_command(argv[1:])
    if argv and argv[0] == "schema":
        return schema_command(argv[1:])
    if argv and argv[0] == "check":
        from .check import check_command

        return check_command(argv[1:])
    args = parse_args(argv, invoked_as())
    if len(args.scenes) > 1 and args.out is not None:
        print("--out names one file: use it with one scene (each scene has its own output)", file=sys.stderr)
        return EXIT_BAD_INPUT
    outcomes: list = []
    try:
        with raising_on_stop():  # a stop before a render has begun (loading the model, say) ends here
            if len(args.scenes) == 1 and not args.ray:
                outcomes = [render_scene(args.scenes[0], args)]
                code = outcomes[0].code
            else:
                from .batch import run_batch

                code, outcomes = run_batch(args)
    except KeyboardInterrupt as stop:
        print("Interrupted. Run the same command with --resume to continue.", file=sys.stderr)
        code = exit_code_for(getattr(stop, "signum", signal.SIGINT))
    if args.report is not None:
        try:
            write_report(args.report, outcomes, code)
        except OSError as error:
            print(f"--report {args.report}: cannot write it: {error}", file=sys.stderr)
            return max(code, EXIT_FAILED)
    return code

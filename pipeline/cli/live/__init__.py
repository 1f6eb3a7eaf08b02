"""`--serve PORT`: a live page of the running render (the latest frame, progress, frames/s, ETA,
the segments, the storyboard) from the standard library's HTTP server, on its own threads.

A render hooks in only through the session's `progress` and `watch` callables, which store
into a Feed (feed.py); the server (server.py) works out the rest when a page asks. A
`--jobs` child reports to its parent's server instead (remote.py): one page, one port.
This module is all a command imports unless it serves or reports (the server is not cheap to import).
"""

from __future__ import annotations

import os
import re

ADDRESS, TOKEN = "DREAMZOOM_LIVE", "DREAMZOOM_LIVE_TOKEN"  # a --jobs child's report channel (remote.py)


def serve_problem(args) -> str | None:
    """What is wrong with --serve and --serve-host as given, in one line, or None."""
    if args.serve is None:
        return "--serve-host says where --serve listens: add --serve PORT" if args.serve_host is not None else None
    if not re.fullmatch(r"[0-9]{1,5}", args.serve) or int(args.serve) > 65535:
        return f"--serve: a port is a whole number from 1 to 65535, or 0 for any free one (got {args.serve!r})"
    if args.dry_run:
        return "--serve shows a render as it runs, and --dry-run renders nothing: leave one of them out"
    if args.ray:
        return ("--serve shows the renders of this machine, and --ray renders on the cluster's: "
                "use --jobs N to watch several scenes on one page")
    return None


def child_feed(name: str):
    """The feed of a `--jobs` child whose parent serves the page (a RemoteFeed), else None."""
    address, token = os.environ.get(ADDRESS), os.environ.get(TOKEN)
    if not (address and token):
        return None
    from .remote import RemoteFeed

    return RemoteFeed(name, address, token)

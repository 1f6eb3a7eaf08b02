"""`--serve PORT`: a live page of the running render (the latest frame, progress, frames/s, ETA,
the segments, the storyboard) from the standard library's HTTP server, on its own threads.

A render hooks in only through the session's `progress` and `watch` callables, which store
into a Feed (feed.py); the server (server.py) works out the rest when a page asks. A
`--jobs` child reports to its parent's server instead (remote.py): one page, one port.
"""

from .feed import Feed
from .remote import child_feed
from .server import Live, LiveError, serve_problem

__all__ = ["Feed", "Live", "LiveError", "child_feed", "serve_problem"]

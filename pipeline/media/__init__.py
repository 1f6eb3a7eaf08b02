"""Media files: the bundled ffmpeg (the only place it is started), sound tracks and their analysis,
file hashes. No torch, nothing of scenes: every other package may use it."""

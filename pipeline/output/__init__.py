"""Output: ffmpeg writers, sinks (video pieces, PNG folder, GIF/WebP), pieces and their join, sidecar, sheets."""

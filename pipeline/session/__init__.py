"""The render session: open or resume, per frame warp -> dream -> post -> sink, checkpoint, finish."""

"""The dream core: octave pyramid, jitter, gradient ascent on pixels, objectives, the CUDA-graph engine.
It gets a network, an objective and settings; it knows nothing of scenes, plans or files."""

"""Tools beside the renderer: the benchmark and the layer atlas."""

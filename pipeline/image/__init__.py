"""Image operations: pure functions on (1, 3, H, W) RGB tensors in [0, 1], device-agnostic."""

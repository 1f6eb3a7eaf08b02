"""The model zoo: entries as data (zoo.py, no torch), builders and weights; fast/ holds the raced faster layers.
Importing this package imports no torch, so scene validation can read the zoo."""


def clear_cache() -> None:
    """Let go of the networks kept for later renders (cache.py), and of the GPU memory they held:
    for a long-running program that is done with a model."""
    import sys

    cache = sys.modules.get(__name__ + ".cache")
    if cache is not None:  # never imported: nothing was kept
        cache.clear()

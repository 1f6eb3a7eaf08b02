"""The process-wide speed settings a render benefits from, applied only when asked.

A library must not change the process it is imported into: a notebook or a web
service that renders keeps its own allocator, cuDNN and thread settings. The
command, the benchmark and the tools call `configure_runtime()` before they
render; a program that owns its process may call it too (`pipeline.configure_runtime`).
"""

from __future__ import annotations

import ctypes
import functools


def configure_runtime(threads: int | None = None) -> None:
    """Apply the settings that make renders faster, for the whole process, for good:

    - cuDNN benchmark mode: each convolution shape is autotuned once (before a CUDA
      graph is captured) and the fastest kernel kept;
    - glibc keeps freed memory for reuse (see keep_freed_memory), so a CPU dream step
      does not fault in fresh pages every step; elsewhere this does nothing;
    - `threads`, if given: torch's CPU threads (by default torch uses one per core).

    Safe to call more than once. Imports torch.
    """
    import torch

    torch.backends.cudnn.benchmark = True
    keep_freed_memory()
    if threads is not None:
        torch.set_num_threads(threads)


@functools.cache
def keep_freed_memory() -> bool:
    """Have the C library keep freed memory for reuse instead of handing it back (glibc; once
    per process). A CPU dream step frees and allocates the same large activations every step;
    glibc maps each one over 32 MiB afresh and unmaps it when freed, so the kernel zeroes
    every page again on first touch: a fifth of the CPU time of a 1080p step on a 2-core VM.
    Kept, the process stays at its peak, which every step reaches anyway. False elsewhere."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # mallopt's numbering below is glibc's
    except (AttributeError, OSError, TypeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    return bool(mallopt(m_mmap_max, 0)) and bool(mallopt(m_trim_threshold, 2**31 - 1))

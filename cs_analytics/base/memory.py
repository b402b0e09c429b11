"""How the allocators hand memory back: Arrow's pool and, on glibc, the C heap (``malloc_trim``,
``mallopt`` through ctypes). One place for what the loader and the worker processes ask of them; each
call is a no-op where the C library is not glibc (macOS, Windows, musl)."""
from __future__ import annotations

import ctypes
import functools
from contextlib import contextmanager

import pyarrow as pa

# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3


@functools.lru_cache(maxsize=1)
def glibc():
    """The C library when it is glibc (it has ``malloc_trim`` and ``mallopt``), else None."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def release_unused(c_heap: bool = True) -> None:
    """Hand memory the allocators keep after frees back to the system: Arrow's pool (it would otherwise
    hold hundreds of MB it no longer uses while the next columns are built) and, on glibc and with
    ``c_heap``, the C heap (``malloc_trim`` changes no setting and trims every thread's heap, so one
    thread's calls are enough)."""
    pa.default_memory_pool().release_unused()
    libc = glibc() if c_heap else None
    if libc is not None:
        libc.malloc_trim(0)


def keep_freed_memory() -> None:
    """For a worker process that ends with its part: glibc's malloc keeps the memory freed for the next
    allocations instead of giving it back to the system and faulting it in again (a fixed threshold for
    allocations of their own mapping, the largest glibc allows, and for trimming the heap)."""
    libc = glibc()
    if libc is None:
        return
    for option, value in ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 1 << 30), (M_TOP_PAD, 64 << 20)):
        libc.mallopt(option, value)


@contextmanager
def arrow_from_c_heap():
    """Arrow allocates from the C heap (``pyarrow.system_memory_pool``) meanwhile, in this process and in
    the workers forked meanwhile; the pool in use before comes back after. With pyarrow's default,
    mimalloc, two processes spent about 1 s more CPU on 1M messages (most of it system time: pages
    given back and faulted in again, in both processes; measured: 3.4 + 3.4 s against 4.1 + 3.7 s,
    system time 0.8 + 0.5 s against 1.5 + 0.9 s). Buffers go back to the pool they came from."""
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)

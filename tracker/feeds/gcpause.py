"""Pausing Python's cyclic garbage collector around bulk work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Suspend the cyclic collector while many small, acyclic objects are built.

    Reference counting still frees everything; what is skipped are the
    collector's repeated passes over an ever larger heap, which took longer
    than the parsing itself when 10,000 calls were read (bench_ingest).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

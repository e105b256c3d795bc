"""One way to pause Python's cyclic garbage collector around work that allocates a lot at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Building or parsing a big trace allocates millions of objects and frees nothing until it is
    done, which makes the cyclic collector rescan everything again and again (2–5× the work itself at
    100k steps). Reference counting still frees everything; the collector resumes right after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

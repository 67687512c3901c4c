"""The long-running controller's heap: what its start built is kept out of every collection.

Python's cyclic garbage collector walks every tracked object of a generation when it
collects it, and a full (generation 2) collection walks the whole heap while no other code of
the process runs: the event loop that answers the IVR's FastAGI sessions stops with it.  What
``clinicall run`` builds while it starts (modules, the ORM's mappers, the validated config,
the menu plans, the engine's tables) lives as long as the process and holds most of its
objects: with them in the heap a full collection took 50-170 ms on the project machine, each
one a gap in every call's next prompt (docs/architecture.md, "The IVR's latency").  After
:func:`settle`, a collection walks only what was made since (calls, sessions, the account's
batches), so the gaps shrink to what the live calls hold.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what the start left behind, then move every surviving object to the permanent
    generation (``gc.freeze``): never collected, never walked again.  Call once, when the
    service is up; objects made later are collected as usual."""
    gc.collect()
    gc.freeze()

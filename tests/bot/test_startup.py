"""What the bot does once it has started, before the first update."""

from __future__ import annotations

import gc

from storage import org_tree
from tests.harness import Harness


async def test_startup_loads_the_org_tree_and_takes_the_heap_out_of_full_collections(
    harness: Harness,
) -> None:
    """The first message finds the tree loaded, and a full garbage collection (during which no
    update is handled) no longer walks what startup left alive."""
    app = harness.app
    org_tree._cache.pop(str(harness.database.engine.url), None)
    assert app.post_init is not None
    assert app.post_stop is not None
    try:
        await app.post_init(app)
        assert str(harness.database.engine.url) in org_tree._cache
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
        await app.post_stop(app)

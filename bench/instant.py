"""`rcs-emulator serve` on the Redis engine with its commit call answered at once instead of
made (a test double in place of the round trip; reads and the rest still go to Redis): what a
send costs the process apart from its call to Redis. Only bench/scale.py runs it, as

    python -m bench.instant serve --state redis://... [flags]
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from emulator.cli import main
from emulator.engines.redis import commits


async def _answered_at_once(
    self: commits.Commits,
    tenant: str,
    partition: int,
    tag: str,
    batch: list[tuple[Any, asyncio.Future[str]]],
) -> None:
    for _, future in batch:
        if not future.done():
            future.set_result("OK")


if __name__ == "__main__":
    commits.Commits._call = _answered_at_once  # type: ignore[method-assign]
    sys.exit(main(sys.argv[1:]))

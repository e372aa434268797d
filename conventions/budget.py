"""The block budget of a tracked save: when to flush, and how many append blocks to spend.

A pure decision (no I/O, no clock), used by :mod:`conventions.tracked` (spec/README.md,
"Tracked save", "Block budget"; decision D-80; vectors ``tracked.json``, ``budget``).

An append blob holds at most 50,000 blocks and every flush that carries anything costs
at least one, so flushing at a fixed interval ends the stream at a date (every 30 s:
after 17.4 days). A Batch task may run 180 days. The budget spends blocks so that the
stream lasts the whole ``lifetime``:

- full blocks (``block_size`` bytes waiting) go at every tick: the bytes need those
  blocks anyway, and a full block wastes nothing;
- a partial block (what is left) goes only when a flush is *due*: once ``cadence``
  seconds passed since the last flush that caught up. The cadence is the requested
  interval for as long as the budget allows, then it stretches:
  ``max(interval, e * ln(lifetime / e) / spendable)`` where ``e`` is the time since start
  and ``spendable`` the blocks left minus the reserve. That spends the partial blocks
  evenly in *log* time (as many in the first hour as between day 1 and day 24), so a
  short task streams at the requested interval and a long one is never cut off; near
  the end of the lifetime it becomes an even spread of what is left;
- past the lifetime the cadence is ``e / spendable``, which never spends the last block;
- :data:`RESERVED_BLOCKS` are never spent by background flushes: they are the final
  flush's, so ``close()`` always has a block for the last partial one.

>>> budget = BlockBudget(interval=1.0, lifetime=100.0, max_blocks=50, block_size=10)
>>> budget.plan(blocks_left=50, elapsed=0.5, waiting=25, since_flush=1.0)
FlushPlan(blocks=3, nbytes=25, cadence=1.0)
>>> budget.plan(blocks_left=50, elapsed=0.5, waiting=25, since_flush=0.2)
FlushPlan(blocks=2, nbytes=20, cadence=1.0)
"""

from __future__ import annotations

import math

import attrs

__all__ = ["RESERVED_BLOCKS", "BlockBudget", "FlushPlan"]

#: Blocks kept for ``close()``: background flushes never spend them.
RESERVED_BLOCKS = 1


@attrs.frozen
class FlushPlan:
    """What to send now."""

    #: Append blocks to send now (0: nothing).
    blocks: int
    #: Bytes those blocks carry: all that waits, or only its whole blocks.
    nbytes: int
    #: Seconds between flushes that send a partial block, as the budget stands now.
    cadence: float


@attrs.frozen
class BlockBudget:
    """The budget of one tracked save.

    :param interval: the requested seconds between flushes.
    :param lifetime: seconds the stream must last (a Batch task's maximum is 180 days).
    :param max_blocks: blocks the blob may hold.
    :param block_size: bytes in a full block.
    """

    interval: float
    lifetime: float
    max_blocks: int
    block_size: int

    def cadence(self, blocks_left: int, elapsed: float) -> float:
        """Seconds between flushes that send a partial block, with *blocks_left* blocks
        left *elapsed* seconds after start (``inf``: only the reserve is left)."""
        spendable = blocks_left - RESERVED_BLOCKS
        if spendable <= 0:
            return math.inf
        if elapsed <= 0:
            return self.interval
        if elapsed < self.lifetime:
            pace = elapsed * math.log(self.lifetime / elapsed) / spendable
        else:
            pace = elapsed / spendable
        return max(self.interval, pace)

    def plan(
        self, *, blocks_left: int, elapsed: float, waiting: int, since_flush: float
    ) -> FlushPlan:
        """What a background flush sends, with *waiting* bytes not yet uploaded and
        *since_flush* seconds since the last flush that sent everything."""
        cadence = self.cadence(blocks_left, elapsed)
        spendable = max(blocks_left - RESERVED_BLOCKS, 0)
        if waiting <= 0:
            return FlushPlan(0, 0, cadence)
        needed = -(-waiting // self.block_size)
        if since_flush >= cadence and needed <= spendable:
            return FlushPlan(needed, waiting, cadence)
        whole = min(waiting // self.block_size, spendable)
        return FlushPlan(whole, whole * self.block_size, cadence)

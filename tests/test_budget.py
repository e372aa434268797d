"""The block budget of a tracked save (conventions.budget): spec vectors and properties, no I/O."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.budget import RESERVED_BLOCKS, BlockBudget

from .vectors import load


@pytest.mark.parametrize("case", load("tracked.json")["budget"]["cases"], ids=lambda c: c["id"])
def test_budget_vector(case: dict[str, Any]) -> None:
    plan = BlockBudget(**case["budget"]).plan(
        blocks_left=case["blocks_left"],
        elapsed=case["elapsed"],
        waiting=case["waiting"],
        since_flush=case["since_flush"],
    )
    assert (plan.blocks, plan.nbytes) == (case["blocks"], case["nbytes"])
    if case["cadence"] is None:
        assert plan.cadence == math.inf
    else:
        assert plan.cadence == pytest.approx(case["cadence"], rel=1e-5)


budgets = st.builds(
    BlockBudget,
    interval=st.floats(0.001, 100),
    lifetime=st.floats(1, 2e7),
    max_blocks=st.integers(1, 50_000),
    block_size=st.integers(1, 4 * 1024 * 1024),
)


@given(
    budget=budgets,
    spent=st.integers(0, 50_000),
    elapsed=st.floats(0, 4e7),
    waiting=st.integers(0, 2**40),
    since=st.floats(0, 1e7),
)
def test_a_plan_never_spends_the_reserve_and_only_holds_back_a_partial_block(
    budget: BlockBudget, spent: int, elapsed: float, waiting: int, since: float
) -> None:
    blocks_left = max(budget.max_blocks - spent, 0)
    plan = budget.plan(blocks_left=blocks_left, elapsed=elapsed, waiting=waiting, since_flush=since)
    assert 0 <= plan.blocks <= max(blocks_left - RESERVED_BLOCKS, 0)
    assert 0 <= plan.nbytes <= waiting
    assert plan.blocks == -(-plan.nbytes // budget.block_size)
    assert plan.cadence >= budget.interval
    if plan.nbytes < waiting:  # what waits is a partial block, or no block is left for it
        assert plan.nbytes % budget.block_size == 0
        assert waiting - plan.nbytes < budget.block_size or plan.blocks == max(
            blocks_left - RESERVED_BLOCKS, 0
        )
    if plan.nbytes == waiting and waiting:
        assert since >= plan.cadence or waiting % budget.block_size == 0


@given(budget=budgets, elapsed=st.floats(0, 4e7), blocks_left=st.integers(2, 50_000))
def test_fewer_blocks_or_more_time_never_shortens_the_cadence(
    budget: BlockBudget, elapsed: float, blocks_left: int
) -> None:
    cadence = budget.cadence(blocks_left, elapsed)
    assert budget.cadence(blocks_left - 1, elapsed) >= cadence
    if elapsed == 0:
        assert cadence == budget.interval


@given(
    ticks=st.integers(50, 4000),
    max_blocks=st.integers(1000, 50_000),
    interval=st.floats(0.01, 60),
    overrun=st.floats(1.0, 3.0),
)
def test_a_constantly_growing_file_streams_for_its_whole_lifetime(
    ticks: int, max_blocks: int, interval: float, overrun: float
) -> None:
    """Ticking every interval with new bytes each time: the blocks never run out (the
    reserve stays for close), and flushes happen until the end of the lifetime, and past
    it while the task overruns."""
    lifetime = ticks * interval
    budget = BlockBudget(interval, lifetime, max_blocks, 1 << 20)
    used, last_flush, elapsed = 0, 0.0, 0.0
    gaps: list[float] = []
    while elapsed < lifetime * overrun:
        elapsed += interval
        plan = budget.plan(
            blocks_left=max_blocks - used,
            elapsed=elapsed,
            waiting=100,
            since_flush=elapsed - last_flush,
        )
        used += plan.blocks
        if plan.nbytes:
            gaps.append(elapsed - last_flush)
            last_flush = elapsed
    assert used <= max_blocks - RESERVED_BLOCKS
    assert last_flush >= lifetime * 0.9  # still streaming at the end of the lifetime
    assert gaps[0] == pytest.approx(interval)  # the requested interval, while it can

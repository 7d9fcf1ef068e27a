"""Running a :class:`~hes.Schedule` to the end of its window, retries included.

:meth:`HeadEnd.run` returns once nothing is due and no gap of the ledger waits for a
back-read within the deadline; a failed billing or events session waits in the schedule
instead (:meth:`Schedule.done`), so :func:`run_schedule` sleeps until that retry falls
due and runs the head-end again, until the deadline. Retries still waiting then are
given up on.
"""

from __future__ import annotations

import math

import trio

from hes._engine import HeadEnd
from hes._schedule import Schedule

__all__ = ["run_schedule"]


async def run_schedule(
    head_end: HeadEnd, schedule: Schedule, *, deadline: float = math.inf
) -> None:
    """Run ``schedule`` on ``head_end`` for at most ``deadline`` seconds (see the
    module); afterwards :attr:`Schedule.given_up` lists what failed for good."""
    end_at = trio.current_time() + deadline
    while True:
        await head_end.run(schedule, deadline=max(0.0, end_at - trio.current_time()))
        due = schedule.next_retry()
        if due is None:
            return
        pause = (due - head_end.clock()).total_seconds()
        if trio.current_time() + max(pause, 0.0) >= end_at:
            schedule.give_up_waiting()
            return
        await trio.sleep(max(pause, 0.0))

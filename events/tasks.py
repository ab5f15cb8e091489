"""Scheduled jobs (django-q2) of the events app: hourly counts.

``ensure_schedules`` creates the schedule after ``migrate`` and is safe to
run any number of times; an existing schedule's next run is left alone.
"""

from events.rollup import roll_up
from fwsiem.schedules import ensure_schedule

ROLLUP_SCHEDULE = "events: count settled hours for reports"
ROLLUP_MINUTES = 5
# One run stops starting hours after this, well inside the next interval,
# so a long backlog (after an import) is worked off over several runs.
ROLLUP_RUN_SECONDS = 240
ROLLUP_TIMEOUT = 900


def roll_up_settled_hours() -> str:
    """Count again the hours marked long enough ago; return a summary line."""
    result = roll_up(seconds=ROLLUP_RUN_SECONDS)
    return (
        f"{result.hours} hours, {result.rows} rows, {result.retried} marked "
        f"again meanwhile, {result.failed} failed, {result.left} left, "
        f"{result.seconds:.1f} s"
    )


def ensure_schedules(**kwargs) -> None:
    """Create or correct the roll-up schedule (after ``migrate``)."""
    from django_q.models import Schedule

    ensure_schedule(
        ROLLUP_SCHEDULE,
        "events.tasks.roll_up_settled_hours",
        Schedule.MINUTES,
        ROLLUP_TIMEOUT,
        minutes=ROLLUP_MINUTES,
    )

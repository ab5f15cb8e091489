"""Create django-q2 schedules from code, after ``migrate``."""


def ensure_schedule(
    name: str, func: str, schedule_type: str, timeout: int, **fields
) -> None:
    """Create the schedule ``name`` or correct how it runs; never duplicate.

    The next run of an existing schedule is left alone, so migrating again
    does not move it. ``timeout`` (seconds) is the task's own, kept below
    the cluster's ``retry`` so a slow run is not handed out twice.
    """
    from django_q.models import Schedule

    values = {
        "func": func,
        "schedule_type": schedule_type,
        "repeats": -1,
        "kwargs": f"q_options={{'timeout': {timeout}}}",
        **fields,
    }
    schedule, created = Schedule.objects.get_or_create(name=name, defaults=values)
    if not created and any(getattr(schedule, k) != v for k, v in values.items()):
        Schedule.objects.filter(pk=schedule.pk).update(**values)

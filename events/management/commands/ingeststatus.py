"""Print each device's ingest health as a table, like the admin page.

One row per device: state, last seen, messages received in the last hour
and the last 24 hours, the unparsed share and the drops of the last 24
hours; then refused unknown senders and the listener's UDP sockets.
``--check`` makes the command fail (exit status 1) when any device is
silent or its rate dropped, for a cron job or a monitoring probe.
"""

import unicodedata
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from events.health import (
    DeviceHealth,
    device_health,
    last_report,
    listener_health,
    refused_senders,
)
from events.models import Device


def text_width(text: str) -> int:
    """Return the terminal columns of ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(width - text_width(text), 0)
    return fill + text if right else text + fill


def render_table(header: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """Lay out ``rows`` under ``header`` in aligned columns."""
    widths = [
        max(text_width(row[index]) for row in [header, *rows])
        for index in range(len(header))
    ]
    lines = []
    for row in [header, *rows]:
        cells = [
            pad(cell, widths[index], index in numeric) for index, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = _("Print the ingest health of every device as a table.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help=_("Exit with status 1 when a device is silent or its rate dropped."),
        )

    def handle(self, *args, check: bool, **options) -> None:
        now = datetime.now(UTC)
        found = device_health(Device.objects.all(), now)

        self.stdout.write(self._devices_table(found, now))
        self._write_refused(now)
        self._write_sockets(now)

        problems = [health for health in found if health.is_problem]
        if check and problems:
            names = ", ".join(health.device.name for health in problems)
            raise CommandError(
                _("Devices needing attention: %(names)s") % {"names": names}
            )

    def _devices_table(self, found: list[DeviceHealth], now: datetime) -> str:
        if not found:
            return _("No devices yet.")
        header = [
            _("device"),
            _("state"),
            _("last seen"),
            _("1 h"),
            _("24 h"),
            _("unparsed"),
            _("dropped"),
        ]
        rows = [self._row(health, now) for health in found]
        return render_table(header, rows, numeric={3, 4, 5, 6})

    def _row(self, health: DeviceHealth, now: datetime) -> list[str]:
        seen = health.device.last_seen_at
        if seen is None:
            last_seen = _("never")
        else:
            local = timezone.localtime(seen).strftime("%Y-%m-%d %H:%M")
            # timesince joins with no-break spaces, meant for HTML.
            age = timesince(seen, now, depth=1).replace("\xa0", " ")
            last_seen = _("%(time)s (%(age)s ago)") % {"time": local, "age": age}
        share = health.unparsed_percent
        return [
            health.device.name,
            str(health.state_label),
            last_seen,
            str(health.hour_received),
            str(health.day_received),
            "-" if share is None else f"{share:.1f} %",
            str(health.day_dropped),
        ]

    def _write_refused(self, now: datetime) -> None:
        refused = refused_senders(now)
        if refused["received_count"]:
            self.stdout.write(
                _("Refused unknown senders, 24 h: %(count)d messages")
                % {"count": refused["received_count"]}
            )

    def _write_sockets(self, now: datetime) -> None:
        for socket in listener_health(now):
            buffer = socket.receive_buffer_bytes
            self.stdout.write(
                _(
                    "%(endpoint)s: kernel drops, 24 h: %(drops)d; "
                    "receive buffer: %(buffer)s bytes"
                )
                % {
                    "endpoint": socket.endpoint,
                    "drops": socket.kernel_drops,
                    "buffer": "-" if buffer is None else buffer,
                }
            )
        newest = last_report(now)
        if newest is None:
            self.stdout.write(_("No listener has reported yet."))
        else:
            self.stdout.write(
                _("Latest listener report: %(time)s")
                % {"time": timezone.localtime(newest).strftime("%Y-%m-%d %H:%M")}
            )

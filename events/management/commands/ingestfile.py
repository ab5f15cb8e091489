"""Replay a saved log file through the listener's parsers and writer.

Each line is one message, as the firewall wrote it to its local log or as
it arrived over syslog. Events are attributed to ``--device`` (created with
``--format`` and ``--time-zone`` when it does not exist yet); ``--format``
also overrides the device's format for this import. A file whose bytes
were imported for the device before is refused unless ``--again`` is
given (see ImportedFile).
"""

import hashlib
import queue
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F
from django.utils.translation import gettext as _

from events.ingest.devices import DeviceDirectory, DeviceProfile
from events.ingest.pipeline import FILE_TRANSPORT, IngestCounters, handle_message
from events.ingest.writer import BatchWriter
from events.models import Device, ImportedFile, validate_time_zone
from fwsiem.progress import progress_bar
from geo import index as geo_index


class Command(BaseCommand):
    help = _("Import a saved firewall log file, one message per line.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help=_("The log file to read."))
        parser.add_argument(
            "--device",
            help=_("Device the events belong to (default: the file's name)."),
        )
        parser.add_argument(
            "--format",
            choices=Device.LogFormat.values,
            help=_("Log format; overrides the device's own for this import."),
        )
        parser.add_argument(
            "--time-zone",
            help=_("Time zone of a new device (default: FWSIEM_TIME_ZONE)."),
        )
        parser.add_argument(
            "--again",
            action="store_true",
            help=_(
                "Import a file imported before for this device; its events "
                "are then stored a second time."
            ),
        )

    def handle(self, *args, path, device, format, time_zone, again, **options) -> str:
        source = Path(path)
        if not source.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        verbosity = options["verbosity"]
        device = self._device(device or source.name, format, time_zone, verbosity)
        with source.open("rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        if not again:
            self._refuse_repeat(source, device, digest)
        profile = DeviceProfile.for_device(
            device, log_format=format or device.log_format, is_enabled=True
        )

        # Loaded before the progress bar starts, so its log line is not
        # printed into the bar.
        geo_index.current_index()
        counters = IngestCounters()
        writer = BatchWriter(
            queue.Queue(),
            counters,
            DeviceDirectory(),
            batch_size=settings.INGEST_BATCH_SIZE,
            flush_seconds=0,
        )
        started = time.monotonic()
        lines = self._ingest(source, profile, counters, writer, verbosity)
        seconds = time.monotonic() - started

        rate = lines / seconds if seconds else 0.0
        # Parsed events whose values the database refused are kept as
        # unparsed messages too, with the database's reason.
        kept_unparsed = counters.get(FILE_TRANSPORT, "unparsed") + counters.get(
            FILE_TRANSPORT, "refused"
        )
        events = counters.get(FILE_TRANSPORT, "stored") - kept_unparsed
        record = {
            "name": source.name[:255],
            "size": source.stat().st_size,
            "lines": lines,
            "events": events,
            "unparsed": kept_unparsed,
            "imported_at": datetime.now(UTC),
        }
        ImportedFile.objects.update_or_create(
            device=device,
            sha256=digest,
            defaults={**record, "imports": F("imports") + 1},
            create_defaults=record,
        )
        return _(
            "%(path)s: %(lines)d lines; stored %(events)d events and "
            "%(unparsed)d unparsed messages in %(seconds).1f s "
            "(%(rate).0f lines/s)"
        ) % {
            "path": source.name,
            "lines": lines,
            "events": events,
            "unparsed": kept_unparsed,
            "seconds": seconds,
            "rate": rate,
        }

    def _refuse_repeat(self, source: Path, device: Device, digest: str) -> None:
        """Raise CommandError if these bytes were imported for ``device``."""
        earlier = ImportedFile.objects.filter(device=device, sha256=digest).first()
        if earlier is None:
            return
        raise CommandError(
            _(
                "%(path)s was imported for device %(device)s on %(date)s "
                "(%(events)d events). Importing it again stores its events a "
                "second time; add --again to do so."
            )
            % {
                "path": source.name,
                "device": device.name,
                "date": f"{earlier.imported_at:%Y-%m-%d %H:%M} UTC",
                "events": earlier.events,
            }
        )

    def _device(self, name, log_format, time_zone, verbosity) -> Device:
        zone = time_zone or settings.TIME_ZONE
        try:
            validate_time_zone(zone)
        except Exception as error:
            raise CommandError(" ".join(error.messages)) from None
        device, created = Device.objects.get_or_create(
            name=name,
            defaults={"log_format": log_format or "auto", "time_zone": zone},
        )
        if created and verbosity > 0:
            self.stdout.write(_("Created device %(name)s") % {"name": name})
        elif not created and time_zone and time_zone != device.time_zone:
            self.stderr.write(
                _(
                    "Device %(name)s keeps its time zone %(zone)s: --time-zone "
                    "applies only to a new device (change it on the device's "
                    "admin page)."
                )
                % {"name": name, "zone": device.time_zone}
            )
        return device

    def _ingest(self, source, profile, counters, writer, verbosity) -> int:
        batch = []
        lines = 0
        total = source.stat().st_size
        with (
            source.open("rb") as stream,
            progress_bar(
                self.stderr,
                verbosity,
                total=total,
                unit="B",
                unit_scale=True,
            ) as progress,
        ):
            for line in stream:
                progress.update(len(line))
                message = line.rstrip(b"\r\n")
                if not message.strip():
                    continue
                lines += 1
                item = handle_message(
                    message,
                    peer=None,
                    transport=FILE_TRANSPORT,
                    received_at=datetime.now(UTC),
                    profile=profile,
                )
                counters.add(FILE_TRANSPORT, "received")
                counters.count_result(item)
                batch.append(item)
                if len(batch) >= writer.batch_size:
                    writer.write(batch)
                    batch = []
        if batch:
            writer.write(batch)
        return lines

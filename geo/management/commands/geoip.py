"""Print the country of addresses and where that answer comes from."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from geo.lookups import describe


class Command(BaseCommand):
    help = _("Show the country, registry and snapshot of IP addresses.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("addresses", nargs="+", metavar="ADDR")

    def handle(self, *args, addresses, **options) -> None:
        bad = 0
        for address in addresses:
            try:
                info = describe(address)
            except ValueError:
                bad += 1
                self.stderr.write(
                    _("%(value)r is not an IP address") % {"value": address[:60]}
                )
                continue
            self.stdout.write(self._line(info))
        if bad:
            raise CommandError(
                _("%(count)d argument(s) were not addresses") % {"count": bad}
            )

    def _line(self, info) -> str:
        if not info.code:
            return f"{info.address}\t-\t{_('no registry gives a country')}"
        name = info.country.name if info.country else info.code
        name_ja = info.country.name_ja if info.country else ""
        fields = [info.address, info.code, name, name_ja or "-"]
        if info.ip_range is not None:
            snapshot = info.ip_range.snapshot
            fields += [
                snapshot.get_registry_display(),
                f"{info.ip_range.start_ip}-{info.ip_range.end_ip}",
                info.ip_range.status,
                _("snapshot %(date)s") % {"date": snapshot.file_date.isoformat()},
            ]
        return "\t".join(fields)

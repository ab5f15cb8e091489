"""Create or repair the viewer, analyst and admin groups (see events.roles)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from events.roles import sync_roles


class Command(BaseCommand):
    help = _("Create the viewer, analyst and admin groups and set their rights.")

    def handle(self, *args, **options) -> None:
        counts = sync_roles()
        for name, count in counts.items():
            self.stdout.write(
                _("%(role)s: %(count)d permissions") % {"role": name, "count": count}
            )

"""Create the first administrator account, once.

Only says who to log in as when a superuser exists. The password comes from
FWSIEM_ADMIN_PASSWORD, or is generated and printed this one time.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("Create the administrator account on first run.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--username", default="admin", help=_("Account name (default: admin).")
        )

    def handle(self, *args, username: str, **options) -> None:
        users = get_user_model()
        existing = users.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            if options["verbosity"] > 0:
                self.stdout.write(
                    _(
                        "Administrator %(user)s exists: log in with its password "
                        "(manage.py changepassword %(user)s sets a new one)."
                    )
                    % {"user": existing.get_username()}
                )
            return

        password = os.environ.get("FWSIEM_ADMIN_PASSWORD") or ""
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email="", password=password)

        self.stdout.write(
            self.style.SUCCESS(
                _("Created administrator %(user)s.") % {"user": username}
            )
        )
        if generated:
            self.stdout.write(
                _("Password (shown only this once): %(password)s")
                % {"password": password}
            )

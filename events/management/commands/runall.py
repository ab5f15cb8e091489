"""Run the syslog listener, the web admin and the job scheduler together.

This is what ``make run`` starts: three child processes (``runsyslog``,
``runserver`` and django-q2's ``qcluster``). Ctrl-C or SIGTERM stops all
three and waits for them; if one of them dies, the others are stopped too.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

STOP_SECONDS = 30


class Command(BaseCommand):
    help = _("Start the listener, the web admin and the scheduler together.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--web",
            default=os.environ.get("FWSIEM_WEB_ADDR", "127.0.0.1:8000"),
            metavar="ADDR:PORT",
            help=_("Where the web admin listens (default: 127.0.0.1:8000)."),
        )

    def handle(self, *args, web: str, **options) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = {
            "runsyslog": [*manage, "runsyslog"],
            "web": [*manage, "runserver", web, "--noreload"],
            "qcluster": [*manage, "qcluster"],
        }
        self._banner(web)

        children = {name: subprocess.Popen(argv) for name, argv in commands.items()}
        stopping = False

        def request_stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        failed = None
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = name
                    stopping = True
            time.sleep(0.3)

        self._stop_all(children)
        if failed:
            raise CommandError(
                _("%(name)s exited; everything was stopped.") % {"name": failed}
            )
        self.stdout.write(_("All stopped."))

    def _stop_all(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(
                    _("%(name)s did not stop; killing it.") % {"name": name}
                )
                child.kill()
                child.wait()

    def _banner(self, web: str) -> None:
        udp = ", ".join(settings.SYSLOG_UDP) or "-"
        tcp = ", ".join(settings.SYSLOG_TCP) or "-"
        lines = [
            "",
            _("fwsiem is starting."),
            _("  Send syslog to:  UDP %(udp)s   TCP %(tcp)s")
            % {"udp": udp, "tcp": tcp},
            _("  Log in at:       http://%(web)s/admin/") % {"web": web},
            _(
                "  To receive from other machines, set FWSIEM_SYSLOG_UDP=0.0.0.0:5514 "
                "(see README)."
            ),
            _("  Press Ctrl-C to stop everything."),
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Firewall events")

    def ready(self) -> None:
        from events.roles import sync_roles_after_migrate
        from events.tasks import ensure_schedules

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="fwsiem-roles")
        post_migrate.connect(ensure_schedules, sender=self)

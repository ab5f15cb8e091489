from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "geo"
    verbose_name = _("Geography")

    def ready(self) -> None:
        from geo.tasks import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "haven.care"
    label = "care"
    verbose_name = _("Finding and booking care")

    def ready(self) -> None:
        from haven.care import geo

        # HAVEN_GEOIP_PATH set without a usable reader fails at start-up, not silently (LOG-6).
        geo.geoip_check()

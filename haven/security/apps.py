from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "haven.security"
    label = "security"
    verbose_name = _("Web logs and intrusion detection")

    def ready(self):
        from haven.security import signals  # noqa: F401  (connects the detectors)

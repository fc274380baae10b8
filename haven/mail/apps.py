from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "haven.mail"
    label = "mail"
    verbose_name = _("E-mail and the secure e-mail portal")

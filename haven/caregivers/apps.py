from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaregiversConfig(AppConfig):
    name = "haven.caregivers"
    label = "caregivers"
    verbose_name = _("Caregivers and guardians")

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from haven.accounts.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load synthetic demo data (safe to run again: existing records are kept as they are)."

    def handle(self, *args, **options):
        rows = []
        with transaction.atomic():
            for config in apps.get_app_configs():
                if not config.name.startswith("haven."):
                    continue
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{config.name}.demo":
                        raise
                    continue
                module.load()
                # Each app's demo names the sign-ins it made; accounts' come first.
                if hasattr(module, "sign_ins"):
                    rows += module.sign_ins()
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Sign in at http://127.0.0.1:8000/ with:")
        )
        for username, who in rows:
            self.stdout.write(f"  {username:<14} {DEMO_PASSWORD}   {who}")

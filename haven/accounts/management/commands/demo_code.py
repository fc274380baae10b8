from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the current second-factor code of a demo staff account (never in production)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if settings.PRODUCTION:
            raise CommandError("demo codes are not available in production")
        device = TOTPDevice.objects.filter(
            user__username=username, name="demo", confirmed=True
        ).first()
        if device is None:
            raise CommandError(f"{username} has no demo authenticator")
        self.stdout.write(
            f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        )

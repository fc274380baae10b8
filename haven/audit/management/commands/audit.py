"""`haven audit verify | checkpoint | export --fhir`: the audit trail's tamper evidence (AUD-6)."""

import json

from django.core.management.base import BaseCommand, CommandError

from haven.audit import chain
from haven.audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain and signed checkpoints (verify), sign the chain head "
        "into the checkpoint directory (checkpoint; run it hourly), or write the trail as FHIR "
        "AuditEvent resources (export --fhir)."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True)
        commands.add_parser("verify", help="check every record, the head and the checkpoints")
        commands.add_parser("checkpoint", help="sign the chain head into a file")
        export = commands.add_parser("export", help="write the trail for another system")
        export.add_argument("--fhir", action="store_true", required=True, help="FHIR R4 JSON")
        export.add_argument("--since", type=int, default=0, help="from this sequence number on")
        export.add_argument("--output", default="-", help="a file (default: standard output)")

    def handle(self, *args, subcommand, **options):
        return getattr(self, f"handle_{subcommand}")(**options)

    def handle_verify(self, **options):
        result = chain.verify()
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        if not result.intact:
            raise CommandError(result.summary(), returncode=1)
        self.stdout.write(self.style.SUCCESS(result.summary()))
        if result.checkpoints:
            self.stdout.write(f"{result.checkpoints} signed checkpoints match")

    def handle_checkpoint(self, **options):
        checkpoint = chain.write_checkpoint()
        if checkpoint is None:
            self.stdout.write("the audit trail is empty: nothing to sign yet")
            return
        self.stdout.write(f"signed record {checkpoint.sequence} into {checkpoint.path}")

    def handle_export(self, *, since, output, **options):
        events = AuditEvent.objects.filter(sequence__gte=since).order_by("sequence")
        if output == "-":
            self.write_bundle(events, lambda text: self.stdout.write(text, ending=""))
            return
        with open(output, "w", encoding="utf-8") as stream:
            self.write_bundle(events, stream.write)
        self.stderr.write(f"wrote the trail from record {since} to {output}")

    @staticmethod
    def write_bundle(events, write) -> None:
        """A FHIR Bundle streamed record by record, so a long trail needs little memory."""
        write('{"resourceType": "Bundle", "type": "collection", "entry": [')
        for index, event in enumerate(events.iterator(chunk_size=2000)):
            write(("," if index else "") + "\n" + json.dumps({"resource": event.to_fhir()}))
        write("\n]}\n")

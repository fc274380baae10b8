"""`haven privacy retention`: the nightly retention run of every category (LOG-5);
`haven privacy notices | archives | purge | backups`: the privacy center's periodic jobs;
`haven privacy pageviews`: the page-view totals of visitors who allowed analytics."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from haven.privacy import facts, retention, services


class Command(BaseCommand):
    help = (
        "retention: erase what is past its retention in every category (web logs, messages, "
        "portal messages, sent e-mail, replaced consents, access archives, backups), skipping "
        "data under a legal hold, and record the run (run nightly; replaces the single jobs). "
        "notices: tell every account holder not yet told of the notice in effect or the one "
        "coming (so a revision reaches everyone within 60 days) and remind anyone not told in "
        "three years (run daily). archives: delete access archives whose download link expired "
        "(run hourly). purge: delete consent records that a later choice replaced more than "
        "HAVEN_CONSENT_RETENTION_DAYS ago (run daily). backups: delete backup files in "
        "HAVEN_BACKUP_DIR older than HAVEN_BACKUP_RETENTION_DAYS (run daily, after the backup). "
        "pageviews: views per page (by URL name) over the last --days days, from visitors who "
        "allowed site analytics."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "job", choices=["retention", "notices", "archives", "purge", "backups", "pageviews"]
        )
        parser.add_argument("--days", type=int, default=30, help="pageviews: how many days")
        parser.add_argument(
            "--dry-run", action="store_true", help="purge: only count what would be deleted"
        )

    def handle(self, *args, job: str, dry_run: bool = False, days: int = 30, **options):
        if job == "retention":
            runs = retention.run()
            for entry in runs:
                line = (
                    f"{entry.category}: erased {entry.erased}, held {entry.held} "
                    f"({entry.period_days} days)"
                )
                self.stdout.write(line + (f" FAILED {entry.error}" if entry.error else ""))
            failed = [entry.category for entry in runs if entry.error]
            if failed:
                raise CommandError(f"retention failed for: {', '.join(failed)}")
        elif job == "pageviews":
            self.stdout.write(f"{'views':>8} {'visits':>8} {'seconds':>8}  page")
            for page, total, entries, seconds in services.page_view_totals(days):
                self.stdout.write(f"{total:>8} {entries:>8} {seconds:>8}  {page}")
            for domain, visits in services.referrer_totals(days):
                self.stdout.write(f"{visits:>8}  visits from {domain}")
        elif job == "notices":
            counts = services.notices_remind()
            self.stdout.write(
                f"told {counts['new']} of the current notice, reminded {counts['reminded']}"
            )
        elif job == "archives":
            self.stdout.write(f"expired {services.archives_expire()} archives")
        elif job == "purge":
            days = facts.consent_retention_days()
            if dry_run:
                count = retention.consents_past_retention().count()
                self.stdout.write(f"{count} consent records are past {days} days of retention")
                return
            count = retention.consents_purge()
            self.stdout.write(f"deleted {count} consent records past {days} days of retention")
        else:
            try:
                removed = retention.backups_prune()
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"deleted {len(removed)} backups older than {facts.backup_retention_days()} days"
            )

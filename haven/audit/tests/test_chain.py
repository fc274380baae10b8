import json
import shutil
import tempfile
import threading
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import TransactionTestCase, override_settings
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import access, chain
from haven.audit.models import AuditEvent, ChainHead, TrainingAttestation
from haven.audit.policy import Purpose, Resource
from haven.audit.tests.training import train_all_staff
from haven.plans.models import EmployerGroup, Plan
from haven.testing.people import HavenTestCase, make_member, make_user, years_ago


@contextmanager
def behind_the_chains_back():
    """Raw writes as a database administrator would make them. On PostgreSQL the append-only
    trigger is bypassed the way a superuser can (session_replication_role), to prove that verify
    catches what the trigger would have refused."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


class CheckpointFolder:
    def setUp(self):
        super().setUp()
        folder = tempfile.mkdtemp(prefix="haven-checkpoints-")
        self.addCleanup(shutil.rmtree, folder, True)
        self.settings_override = override_settings(HAVEN_AUDIT_CHECKPOINT_DIR=folder)
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)


class ChainTests(CheckpointFolder, HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    def setUp(self):
        super().setUp()
        for member in (self.alice_member, self.elena_member, self.teo_member, self.bruno_member):
            access.read(
                actor=self.nurse,
                member=member,
                resource=Resource.DEMOGRAPHICS,
                purpose=Purpose.TREATMENT,
            )

    def verify(self) -> str:
        out = StringIO()
        call_command("audit", "verify", stdout=out, stderr=StringIO())
        return out.getvalue()

    def refused(self) -> str:
        with self.assertRaises(CommandError) as raised:
            self.verify()
        self.assertEqual(raised.exception.returncode, 1)
        return str(raised.exception)

    @pytest.mark.promise("AUD-6")
    def test_verify_walks_the_whole_chain_and_says_it_is_intact(self):
        self.assertIn("verified 4 records, chain intact", self.verify())
        events = list(AuditEvent.objects.order_by("sequence"))
        self.assertEqual([e.sequence for e in events], [1, 2, 3, 4])
        self.assertEqual(events[0].prev_hash, "0" * 64)
        for before, after in zip(events, events[1:], strict=False):
            self.assertEqual(after.prev_hash, before.hash)

    @pytest.mark.promise("AUD-6")
    def test_a_record_changed_behind_the_chains_back_is_named(self):
        with behind_the_chains_back() as cursor:
            cursor.execute("UPDATE audit_auditevent SET purpose = 'payment' WHERE sequence = 2")
        self.assertIn("chain broken at record 2: its content was changed", self.refused())

    @pytest.mark.promise("AUD-6")
    def test_a_changed_record_with_a_recomputed_hash_breaks_the_next_link(self):
        event = AuditEvent.objects.get(sequence=2)
        event.purpose = "payment"
        with behind_the_chains_back() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent SET purpose = 'payment', hash = %s WHERE sequence = 2",
                [event.compute_hash()],
            )
        self.assertIn("chain broken at record 3: it does not link", self.refused())

    @pytest.mark.promise("AUD-6")
    def test_a_deleted_record_is_named(self):
        with behind_the_chains_back() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE sequence = 3")
        self.assertIn("record 3 is missing", self.refused())

    @pytest.mark.promise("AUD-6")
    def test_deleting_the_newest_records_is_caught_by_the_head(self):
        with behind_the_chains_back() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE sequence >= 3")
        self.assertIn("the chain ends at record 2 but its head says 4", self.refused())

    @pytest.mark.promise("AUD-6")
    def test_a_rewritten_table_is_caught_by_the_signed_checkpoint(self):
        call_command("audit", "checkpoint", stdout=StringIO())
        # Rewrite record 2 and re-link everything after it, head included: internally consistent.
        previous = AuditEvent.objects.get(sequence=1).hash
        with behind_the_chains_back() as cursor:
            for event in AuditEvent.objects.order_by("sequence")[1:]:
                if event.sequence == 2:
                    event.purpose = "payment"
                event.prev_hash = previous
                event.hash = event.compute_hash()
                cursor.execute(
                    "UPDATE audit_auditevent SET purpose = %s, prev_hash = %s, hash = %s "
                    "WHERE sequence = %s",
                    [event.purpose, event.prev_hash, event.hash, event.sequence],
                )
                previous = event.hash
            ChainHead.objects.filter(pk=chain.HEAD_PK).update(hash=previous)
        # Without a checkpoint the rewrite would pass: the links alone cannot tell.
        with override_settings(HAVEN_AUDIT_CHECKPOINT_DIR=tempfile.gettempdir() + "/haven-none"):
            self.assertIn("chain intact", self.verify())
        self.assertIn(
            "chain broken at record 4: it differs from the signed checkpoint", self.refused()
        )

    @pytest.mark.promise("AUD-6")
    def test_an_emptied_table_is_caught_by_the_signed_checkpoint(self):
        call_command("audit", "checkpoint", stdout=StringIO())
        with behind_the_chains_back() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
            cursor.execute("DELETE FROM audit_chainhead")
        self.assertIn("vouches for 4 records but only 0 remain", self.refused())

    @pytest.mark.promise("AUD-6")
    def test_a_forged_checkpoint_is_refused(self):
        checkpoint = chain.write_checkpoint()
        data = json.loads(checkpoint.path.read_text())
        data["hash"] = "f" * 64
        checkpoint.path.write_text(json.dumps(data))
        self.assertIn("has a bad signature", self.refused())

    def test_new_records_after_a_checkpoint_still_verify(self):
        chain.write_checkpoint()
        access.read(
            actor=self.nurse,
            member=self.carla_member,
            resource=Resource.DEMOGRAPHICS,
            purpose=Purpose.TREATMENT,
        )
        output = self.verify()
        self.assertIn("verified 5 records, chain intact", output)
        self.assertIn("1 signed checkpoints match", output)

    def test_the_trail_exports_as_fhir_audit_events(self):
        out = StringIO()
        call_command("audit", "export", "--fhir", stdout=out)
        bundle = json.loads(out.getvalue())
        self.assertEqual(bundle["resourceType"], "Bundle")
        resources = [entry["resource"] for entry in bundle["entry"]]
        self.assertEqual(len(resources), 4)
        first = resources[0]
        self.assertEqual(first["resourceType"], "AuditEvent")
        self.assertEqual(first["type"]["code"], "110110")
        self.assertEqual(first["action"], "R")
        self.assertEqual(first["outcome"], "0")
        self.assertEqual(first["purposeOfEvent"][0]["coding"][0]["code"], "TREAT")
        self.assertEqual(first["agent"][0]["who"]["reference"], f"Practitioner/{self.nurse.pk}")
        self.assertEqual(first["entity"][0]["what"]["reference"], f"Patient/{self.alice_member.pk}")


class OneStatementAppendTests(CheckpointFolder, HavenTestCase):
    """On PostgreSQL the head lock, the hash, the insert and the head update are one statement;
    what it writes verifies exactly like what the Python path writes (AUD-6)."""

    def event(self, note: str) -> AuditEvent:
        return AuditEvent(
            recorded_at=timezone.now(),
            type="access",
            subtype="read",
            action="R",
            outcome="allowed",
            system_actor="chain-test",
            source="task:chain-test",
            member=self.alice_member,
            entity={"demographics": ["first_name"]},
            flags=["hours"],
            note=note,
        )

    @pytest.mark.promise("AUD-6")
    def test_records_written_in_one_statement_link_and_verify(self):
        from django.test.utils import CaptureQueriesContext

        chain.append(self.event("the first makes the head"))
        tricky = self.event('Ünïcödé 中文 "quotes" \\ back\\slash, 100% and %s')
        with CaptureQueriesContext(connection) as queries:
            chain.append(tricky)
        if connection.vendor == "postgresql":
            self.assertEqual(len(queries), 1, [q["sql"][:60] for q in queries])
        # Text holding the stand-ins takes the general path and verifies all the same.
        marked = self.event(f"{chain._PREV_MARK} {chain._SEQUENCE_MARK}")
        chain.append(marked)
        events = list(AuditEvent.objects.order_by("sequence"))
        self.assertEqual([e.sequence for e in events], [1, 2, 3])
        for previous, event in zip(events, events[1:], strict=False):
            self.assertEqual(event.prev_hash, previous.hash)
        for event in events:
            self.assertEqual(event.hash, event.compute_hash())
            self.assertTrue(event.flagged)
        self.assertEqual(events[1].note, tricky.note)
        self.assertEqual((tricky.pk, tricky.hash), (events[1].pk, events[1].hash))
        head = ChainHead.objects.get(pk=chain.HEAD_PK)
        self.assertEqual((head.sequence, head.hash), (3, events[2].hash))
        out = StringIO()
        call_command("audit", "verify", stdout=out, stderr=StringIO())
        self.assertIn("verified 3 records, chain intact", out.getvalue())


@pytest.mark.postgres
class AppendOnlyTriggerTests(HavenTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        train_all_staff(cls)

    @pytest.mark.promise("AUD-6")
    def test_postgresql_refuses_to_update_or_delete_audit_records(self):
        access.read(
            actor=self.nurse,
            member=self.alice_member,
            resource=Resource.DEMOGRAPHICS,
            purpose=Purpose.TREATMENT,
        )
        for statement in (
            "UPDATE audit_auditevent SET purpose = 'payment'",
            "DELETE FROM audit_auditevent",
        ):
            with self.subTest(statement), self.assertRaises(DatabaseError) as refused:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(statement)
            self.assertIn("append-only", str(refused.exception))
        self.assertEqual(AuditEvent.objects.get().purpose, "treatment")


@pytest.mark.postgres
class ConcurrentWritersTests(CheckpointFolder, TransactionTestCase):
    WRITERS = 8
    EACH = 15

    def setUp(self):
        super().setUp()
        plan = Plan.objects.create(code="P", name="P", carrier="C", year=2026)
        group = EmployerGroup.objects.create(group_number="G", name="G", plan=plan)
        self.members = [
            make_member(f"M-{n}", group, "Member", f"Number{n}", years_ago(30 + n))
            for n in range(self.WRITERS)
        ]
        self.nurses = [
            make_user(f"nurse{n}", User.Kind.STAFF, staff_role="care_team")
            for n in range(self.WRITERS)
        ]
        compliance = make_user("compliance", User.Kind.STAFF, staff_role="compliance")
        now = timezone.now()
        for nurse in self.nurses:
            TrainingAttestation.objects.create(
                staff=nurse,
                course="HIPAA",
                completed_at=now - timedelta(days=1),
                expires_at=now + timedelta(days=300),
                recorded_by=compliance,
            )

    @pytest.mark.promise("AUD-6")
    def test_many_writers_at_once_make_one_unbroken_chain(self):
        start = threading.Barrier(self.WRITERS)
        errors = []

        def write(nurse, member):
            try:
                start.wait()
                for _ in range(self.EACH):
                    access.read(
                        actor=nurse,
                        member=member,
                        resource=Resource.DEMOGRAPHICS,
                        purpose=Purpose.TREATMENT,
                    )
            except Exception as error:  # reported to the main thread below
                errors.append(error)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=write, args=(nurse, member))
            for nurse, member in zip(self.nurses, self.members, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        self.assertEqual(errors, [])
        total = self.WRITERS * self.EACH
        self.assertEqual(
            list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)),
            list(range(1, total + 1)),
        )
        result = chain.verify()
        self.assertTrue(result.intact, result.summary())
        self.assertEqual(result.records, total)
        # The writers really interleaved: the chain is not one writer's records after another's.
        actors = list(AuditEvent.objects.order_by("sequence").values_list("actor", flat=True))
        switches = sum(1 for a, b in zip(actors, actors[1:], strict=False) if a != b)
        self.assertGreater(switches, self.WRITERS - 1)

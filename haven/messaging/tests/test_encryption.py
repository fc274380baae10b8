import base64
import os
import sqlite3

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from haven.lib import crypto
from haven.messaging import services
from haven.messaging.models import Attachment, Conversation, Message
from haven.messaging.tests.conversations import MessagingTestCase, reply, start, text_file

SUBJECT = "Biopsy results from the dermatologist"
BODY = "The mole on my left shoulder was benign, says the report."
FILENAME = "pathology-report-shoulder.txt"
CONTENT = b"Histology: compound naevus, no atypia. Margins clear.\n"


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


OLD_KEY, NEW_KEY = os.urandom(32), os.urandom(32)
OLD_ONLY = {"HAVEN_KEKS": {"2025-01": b64(OLD_KEY)}, "HAVEN_KEK_CURRENT": "2025-01"}
BOTH = {
    "HAVEN_KEKS": {"2025-01": b64(OLD_KEY), "2026-01": b64(NEW_KEY)},
    "HAVEN_KEK_CURRENT": "2026-01",
}
NEW_ONLY = {"HAVEN_KEKS": {"2026-01": b64(NEW_KEY)}, "HAVEN_KEK_CURRENT": "2026-01"}


def every_stored_value():
    """Every value of every column of every table, as bytes, the way a dump would see it."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        yield table, bytes(value)
                    elif value is not None:
                        yield table, str(value).encode()


class StoredEncryptedTests(MessagingTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.conversation = start(
            cls.alice, subject=SUBJECT, body=BODY, files=[text_file(FILENAME, CONTENT)]
        )
        reply(cls.conversation, cls.nurse, body="Good news. " + BODY)

    @pytest.mark.promise("MSG-3")
    def test_a_database_dump_shows_no_message_text_names_or_files(self):
        secrets = [SUBJECT.encode(), BODY.encode(), FILENAME.encode(), CONTENT.strip()]
        for table, value in every_stored_value():
            for secret in secrets:
                self.assertNotIn(secret, value, f"found in {table}")
        if connection.vendor == "sqlite":
            dump = "\n".join(connection.connection.iterdump())
            for secret in secrets:
                # A BLOB would show as X'hex': look for that too.
                for form in (secret.decode(), secret.hex(), secret.hex().upper()):
                    self.assertNotIn(form, dump)
        # And the member still reads it all.
        shown = services.conversation_read(conversation=self.conversation, actor=self.alice)
        self.assertEqual(shown.subject, SUBJECT)
        self.assertEqual(shown.messages[0].body, BODY)
        self.assertEqual(shown.messages[0].attachments[0].filename, FILENAME)

    @pytest.mark.promise("MSG-3")
    def test_every_message_and_attachment_has_its_own_data_key(self):
        keys = [bytes(row.wrapped_key) for row in Message.objects.all()]
        keys += [bytes(row.wrapped_key) for row in Attachment.objects.all()]
        keys += [bytes(row.wrapped_key) for row in Conversation.objects.all()]
        self.assertEqual(len(set(keys)), 4)
        self.assertTrue(all(row.kek_id == "local" for row in Message.objects.all()))

    @pytest.mark.promise("MSG-3")
    def test_a_ciphertext_moved_to_another_row_does_not_decrypt(self):
        first, second = Message.objects.select_related("conversation").order_by("pk")
        second.body_sealed = first.body_sealed
        with self.assertRaises(crypto.DecryptionError):
            second.body  # noqa: B018
        # Moving the wrapped key along with it does not help: the key is bound to its row too.
        second = Message.objects.select_related("conversation").get(pk=second.pk)
        second.body_sealed, second.wrapped_key = first.body_sealed, first.wrapped_key
        with self.assertRaises(crypto.DecryptionError):
            second.body  # noqa: B018

    def test_a_changed_byte_is_refused(self):
        message = Message.objects.select_related("conversation").order_by("pk").first()
        tampered = bytearray(message.body_sealed)
        tampered[-1] ^= 1
        message.body_sealed = bytes(tampered)
        with self.assertRaises(crypto.DecryptionError):
            message.body  # noqa: B018


class RotationTests(MessagingTestCase):
    def write_under_old_key(self):
        with override_settings(**OLD_ONLY):
            conversation = start(
                self.alice, subject=SUBJECT, body=BODY, files=[text_file(FILENAME, CONTENT)]
            )
            reply(conversation, self.nurse, body="Answer under the old key.")
        return conversation

    def sealed_data(self):
        return (
            sorted(bytes(row.body_sealed) for row in Message.objects.all()),
            sorted(bytes(row.content_sealed) for row in Attachment.objects.all()),
            sorted(bytes(row.subject_sealed) for row in Conversation.objects.all()),
        )

    @pytest.mark.promise("MSG-3")
    def test_rotation_rewraps_keys_and_the_old_key_can_then_be_removed(self):
        conversation = self.write_under_old_key()
        data_before = self.sealed_data()
        with override_settings(**BOTH):
            call_command("keys", "rotate", "--batch-size", "1", stdout=open(os.devnull, "w"))  # noqa: SIM115
        self.assertEqual(self.sealed_data(), data_before, "data must not be re-encrypted")
        for model in (Conversation, Message, Attachment):
            self.assertEqual(set(model.objects.values_list("kek_id", flat=True)), {"2026-01"})
        with override_settings(**NEW_ONLY):
            conversation = Conversation.objects.get(pk=conversation.pk)
            shown = services.conversation_read(conversation=conversation, actor=self.alice)
            self.assertEqual(shown.subject, SUBJECT)
            self.assertEqual(
                [message.body for message in shown.messages], [BODY, "Answer under the old key."]
            )
            attachment = Attachment.objects.get()
            _found, content = services.attachment_open(pk=attachment.pk, actor=self.alice)
            self.assertEqual(content, CONTENT)

    @pytest.mark.promise("MSG-3")
    def test_an_interrupted_rotation_finishes_when_run_again(self):
        self.write_under_old_key()

        def stop_after_first_batch(label, done):
            raise KeyboardInterrupt

        with override_settings(**BOTH):
            with self.assertRaises(KeyboardInterrupt):
                crypto.rewrap_all(batch_size=1, report=stop_after_first_batch)
            kek_ids = list(Conversation.objects.values_list("kek_id", flat=True))
            kek_ids += list(Message.objects.values_list("kek_id", flat=True))
            self.assertIn("2025-01", kek_ids)
            self.assertIn("2026-01", kek_ids)
            crypto.rewrap_all(batch_size=1)
        with override_settings(**NEW_ONLY):
            for message in Message.objects.select_related("conversation"):
                self.assertTrue(message.body)

    def test_without_the_old_key_an_unrotated_message_is_refused_not_guessed(self):
        self.write_under_old_key()
        with override_settings(**NEW_ONLY):
            message = Message.objects.select_related("conversation").first()
            with self.assertRaises(crypto.DecryptionError):
                message.body  # noqa: B018


class KeySettingsTests(MessagingTestCase):
    @override_settings(PRODUCTION=True, HAVEN_KEKS=None)
    def test_production_refuses_to_run_without_configured_keys(self):
        with self.assertRaises(ImproperlyConfigured):
            crypto.current_kek_id()

    @override_settings(PRODUCTION=True, **NEW_ONLY)
    def test_production_refuses_to_switch_encryption_off(self):
        with self.assertRaises(ImproperlyConfigured):
            crypto.new_data_key(context=b"x", encrypt=False)

    def test_keys_are_read_from_the_environment_format(self):
        keks = crypto.parse_keks(f"2025-01:{b64(OLD_KEY)}, 2026-01:{b64(NEW_KEY)}")
        self.assertEqual(keks, {"2025-01": OLD_KEY, "2026-01": NEW_KEY})
        with self.assertRaises(ImproperlyConfigured):
            crypto.parse_keks("short:" + b64(b"too short"))

    @override_settings(HAVEN_KEKS={"a": b64(OLD_KEY)}, HAVEN_KEK_CURRENT="b")
    def test_a_current_key_that_is_not_configured_is_refused(self):
        with self.assertRaises(ImproperlyConfigured):
            crypto.current_kek_id()


def test_sqlite_dump_of_a_blob_shows_hex_so_the_dump_test_looks_for_hex_too():
    """Guards the dump test above: plain text stored as a BLOB would hide from a text search."""
    memory = sqlite3.connect(":memory:")
    memory.execute("CREATE TABLE t (b BLOB)")
    memory.execute("INSERT INTO t VALUES (?)", (BODY.encode(),))
    dump = "\n".join(memory.iterdump())
    assert BODY not in dump
    assert BODY.encode().hex().upper() in dump.upper()

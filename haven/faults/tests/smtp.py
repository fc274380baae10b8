"""An SMTP server for fault tests that can hold its answer to DATA or to QUIT, as a stuck relay does.

Built on the mail tests' aiosmtpd server (haven/mail/tests/smtp_servers.py). A message counts as
received only once the server answered 250 to its DATA: a conversation cut before that answer
delivered nothing (SMTP semantics, RFC 5321 section 4.1.1.4).
"""

import asyncio
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from haven.mail.tests.smtp_servers import (
    RecordingHandler,
    RunningServer,
    TestPKI,
    _server_context,
    free_port,
)


@dataclass
class StallingHandler(RecordingHandler):
    stall: bool = False
    receiving: threading.Event = field(default_factory=threading.Event)
    stalled: int = 0
    hold_quit: bool = False
    quitting: threading.Event = field(default_factory=threading.Event)

    async def handle_QUIT(self, server, session, envelope):
        if self.hold_quit:
            # The message was accepted; the client waits for the goodbye, as with a slow relay.
            self.quitting.set()
            await asyncio.sleep(3600)
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        if self.stall:
            self.stalled += 1
            self.receiving.set()
            # Hold the answer until the client goes away (aiosmtpd cancels this on disconnect).
            await asyncio.sleep(3600)
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def stalling_smtp_server(
    pki: TestPKI, *, stall: bool = False, hold_quit: bool = False, port: int | None = None
):
    handler = StallingHandler(stall=stall, hold_quit=hold_quit)
    port = port or free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=_server_context(pki.cert_file, pki.key_file),
        require_starttls=True,
    )
    controller.start()
    try:
        yield RunningServer(port=port, handler=handler)
    finally:
        controller.stop()

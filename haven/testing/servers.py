"""Real HTTP servers on loopback, in a thread, for the tests of Haven's HTTP clients (the SMS
gateway, the Web Push service, MTA-STS policies)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output clean."""

    def log_message(self, *args):
        pass


@contextmanager
def loopback_server(
    handler: type[BaseHTTPRequestHandler], wrap: Callable[[socket], socket] | None = None
) -> Iterator[int]:
    """Serve `handler` on a free loopback port (through `wrap` for TLS); yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if wrap is not None:
        server.socket = wrap(server.socket)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()

"""A TCP proxy in front of PostgreSQL that a test can cut and restore: a database outage for one
Haven without stopping the PostgreSQL server that other tests share.

`cut()` closes every connection through the proxy and turns new ones away (accepted and closed
at once, as a server going down does); `restore()` lets them through again. `cut_when(pattern)`
cuts at the moment a client sends bytes containing `pattern` (before they reach the server), so
a test can break the database in the middle of a request's transaction. Clients must connect
without TLS (sslmode=disable) for the pattern to be visible.
"""

import socket
import threading


class DatabaseProxy:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.down = False
        self.trigger: bytes | None = None
        self.tripped = threading.Event()
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def cut(self) -> None:
        with self.lock:
            self.down = True
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def restore(self) -> None:
        with self.lock:
            self.down = False
            self.trigger = None

    def cut_when(self, pattern: bytes) -> None:
        self.tripped.clear()
        self.trigger = pattern

    def close(self) -> None:
        self.closing = True
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            with self.lock:
                refused = self.down
            if refused:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                trigger = self.trigger
                if from_client and trigger is not None and trigger in data:
                    self.tripped.set()
                    self.cut()
                    return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

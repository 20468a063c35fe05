"""A TCP proxy of ours between an SDK and ``weir serve``, on a loopback ephemeral port, that
can lose the server's answers: ``mute_answers()`` stops passing bytes from the server to the
client (requests still reach the server and are carried out), and ``cut()`` closes every
connection and passes answers again on the new ones. So a test can make a request succeed
on the server while its client never hears of it, and then force the client to retry."""

from __future__ import annotations

import socket
import threading
from typing import Set
from urllib.parse import urlsplit


class Proxy:
    """Started on construction; ``close()`` stops it (also as a context manager)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: Set[socket.socket] = set()
        self._lock = threading.Lock()
        self._muted = False
        self._closed = False
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                target = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            target.settimeout(None)
            with self._lock:
                if self._closed:
                    client.close()
                    target.close()
                    return
                self._sockets.update((client, target))
            threading.Thread(target=self._pump, args=(client, target, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(target, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if answers and self._muted:
                    continue
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                self._drop(s)

    def _drop(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def mute_answers(self) -> None:
        self._muted = True

    def cut(self) -> None:
        self._muted = False
        with self._lock:
            sockets = list(self._sockets)
        for s in sockets:
            self._drop(s)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._listener.close()
        self.cut()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

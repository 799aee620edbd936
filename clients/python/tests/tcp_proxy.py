"""A loopback TCP proxy in front of the Worker, so a test can cut every open
connection for real (both sockets reset, as a network failure would) while
the Worker keeps running."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Set


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self._sockets: Set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        #: Connections accepted so far.
        self.connections = 0
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, name="tcp-proxy-accept", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._reset(source)
            self._reset(sink)

    def _reset(self, s: socket.socket) -> None:
        with self._lock:
            if s not in self._sockets:
                return
            self._sockets.discard(s)
        try:
            # Linger 0: close() sends a RST, as a broken network would, not a clean FIN.
            # SHUT_RD wakes the pump blocked in recv() on it, which close() alone would not.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        s.close()

    def drop_all(self) -> int:
        """Cuts every open connection; returns how many sockets it reset."""
        with self._lock:
            open_now = list(self._sockets)
        for s in open_now:
            self._reset(s)
        return len(open_now)

    def close(self) -> None:
        self._server.close()
        self.drop_all()

"""A TCP proxy for tests that can cut every connection and refuse new ones.

Put between the writer and MariaDB, it plays a database that goes away
(connections reset, new ones refused) and comes back.
"""

import socket
import threading


class FaultProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.address = self.server.getsockname()
        self.refusing = threading.Event()
        self.closing = threading.Event()
        self.live: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def cut(self) -> None:
        """Reset every open connection and refuse new ones."""
        self.refusing.set()
        with self.lock:
            for sock in self.live:
                sock.close()
            self.live.clear()

    def restore(self) -> None:
        self.refusing.clear()

    def close(self) -> None:
        self.closing.set()
        self.cut()
        self.thread.join(timeout=2)
        self.server.close()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            if self.refusing.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.live += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pipe, args=(source, sink), daemon=True
                ).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65_536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            source.close()
            sink.close()

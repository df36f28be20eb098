"""A loopback HTTP/1.1 proxy in front of Argilla that can lose answers: it forwards a matching request whole, waits for
Argilla's whole answer (so the change is done), then resets the client's connection instead of passing the answer on.
That is what a client sees when the server dies, or a proxy drops the connection, after committing a change.

    with FaultProxy(argilla.api_url) as proxy:
        proxy.lose("POST", "/api/v1/webhooks")        # the next such request loses its answer
        hooks("create", ..., env={"ARGILLA_API_URL": proxy.url})
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from urllib.parse import urlsplit


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._rules: list[tuple[str, re.Pattern[str]]] = []
        self.lost: list[str] = []  # "METHOD /path" of each request whose answer was lost
        self._lock = threading.Lock()
        self._closed = False

    def lose(self, method: str, path_pattern: str) -> None:
        """Lose the answer to the next request with this method whose path matches `path_pattern` in full."""
        with self._lock:
            self._rules.append((method, re.compile(path_pattern)))

    def __enter__(self) -> "FaultProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        client_in, upstream_in = _Reader(client), _Reader(upstream)
        try:
            while (request := client_in.message()) is not None:
                upstream.sendall(request)
                answer = upstream_in.message(head_only=request.startswith(b"HEAD "))
                if answer is None:
                    return
                if self._should_lose(request):
                    # RST, not FIN: as when the server's process dies, and no answer is half-read.
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                client.sendall(answer)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    def _should_lose(self, request: bytes) -> bool:
        method, target = (part.decode() for part in request.split(b" ", 2)[:2])
        path = target.split("?")[0]
        with self._lock:
            for rule in self._rules:
                if rule[0] == method and rule[1].fullmatch(path):
                    self._rules.remove(rule)
                    self.lost.append(f"{method} {path}")
                    return True
        return False


class _Reader:
    """Whole HTTP/1.1 messages from a socket: the head and a Content-Length body (what httpx and uvicorn send here)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer = sock, b""

    def message(self, head_only: bool = False) -> bytes | None:
        while b"\r\n\r\n" not in self.buffer:
            if not self._more():
                return None
        end = self.buffer.index(b"\r\n\r\n") + 4
        head = self.buffer[:end]
        declared = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if head_only:
            length = 0
        elif re.search(rb"(?im)^transfer-encoding:\s*chunked", head):  # Argilla gzips bigger answers, chunked
            length = self._chunked_length(end)
            if length < 0:
                return None
        else:
            length = int(declared.group(1)) if declared else 0
        while len(self.buffer) < end + length:
            if not self._more():
                return None
        message, self.buffer = self.buffer[: end + length], self.buffer[end + length :]
        return message

    def _chunked_length(self, start: int) -> int:
        """How many bytes from `start` the chunks take, their last (`0\r\n\r\n`) included; -1 if the peer left."""
        at = start
        while True:
            while b"\r\n" not in self.buffer[at:]:
                if not self._more():
                    return -1
            line_end = self.buffer.index(b"\r\n", at)
            size = int(self.buffer[at:line_end].split(b";")[0], 16)
            at = line_end + 2 + size + 2
            if size == 0:
                return at - start
            while len(self.buffer) < at:
                if not self._more():
                    return -1

    def _more(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

"""Fuzzing `hooks listen` on the wire (hypothesis): raw bytes, request lines, heads and bodies of any shape sent to a
running listener never get a 5xx, never reach code, never stop it serving, and never print a traceback.

HOOKS_FUZZ_EXAMPLES sets the number of requests (default 1,500, of which a fifth here: each opens a connection).
"""

from __future__ import annotations

import os
import socket

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.listener_process import Listener
from tests.unit.receiver.receiver_samples import event_body, new_secret, signed_headers

EXAMPLES = max(50, int(os.environ.get("HOOKS_FUZZ_EXAMPLES", "1500")) // 5)
SECRET = new_secret()

tokens = st.sampled_from([b"POST", b"GET", b"HEAD", b"PUT", b"PRI", b"post", b"", b"\x00", b"POST POST"])
targets = st.sampled_from([b"/", b"/healthz", b"*", b"http://x/", b"/" + b"a" * 70_000, b"/%ff", b"", b"/\r"])
versions = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1\r\n", b"HTTX", b""])
header_lines = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([b"content-length", b"Content-Length", b"transfer-encoding", b"webhook-id",
                                   b"webhook-timestamp", b"webhook-signature", b"expect", b"connection", b"x"]),
                  st.one_of(st.binary(max_size=30), st.sampled_from([b"0", b"5", b"-1", b"99999999999", b"chunked",
                                                                     b"100-continue", b"close", b"v1,AAAA"])))
        .map(lambda pair: pair[0] + b": " + pair[1]),
        st.binary(max_size=60),
    ),
    max_size=6,
)
bodies = st.one_of(st.binary(max_size=2000), st.sampled_from([b"0\r\n\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\n"]))


@st.composite
def raw_requests(draw) -> bytes:
    if draw(st.sampled_from([False] * 9 + [True])):
        return draw(st.binary(min_size=1, max_size=3000))  # anything at all
    line = draw(tokens) + b" " + draw(targets) + b" " + draw(versions)
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in draw(header_lines)) + b"\r\n" + draw(bodies)


@pytest.fixture(scope="module")
def listener():
    with Listener(["--secret", SECRET, "-v"]) as running:
        yield running
        running.stop()


def statuses(answer: bytes) -> list[int]:
    found = []
    for line in answer.split(b"\r\n"):
        parts = line.split(b" ")
        if line.startswith(b"HTTP/1.") and len(parts) > 1 and parts[1].isdigit():
            found.append(int(parts[1]))
    return found


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=raw_requests())
def test_raw_bytes_never_get_a_5xx_nor_reach_code(listener, raw):
    with socket.create_connection(("127.0.0.1", listener.ready["port"]), timeout=10) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)  # then the listener sees the end, not a request still arriving
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
    assert all(status < 500 for status in statuses(answer)), answer[:300]
    assert listener.proc.poll() is None


def test_after_the_fuzz_it_still_serves_and_printed_no_traceback(listener):
    body = event_body("dataset.created")
    assert httpx.post(listener.url, content=body, headers=signed_headers(SECRET, body), timeout=30).status_code == 204
    listener.stop()
    events = [line for line in listener.remaining() if line["kind"] == "event"]
    assert [e["type"] for e in events] == ["dataset.created"]  # nothing of the fuzz reached code
    assert "Traceback" not in listener.stderr and "Exception" not in listener.stderr, listener.stderr[-2000:]

"""The probe's wire: one TCP connection to a peer, bytes sent in chosen segments,
everything read back with bounded waits, and plain words for what came back.

Standard library only, and nothing shared with hijack-harness: the point of the
probe is to be a second opinion on the harness's verdicts.
"""

import socket
import threading
import time

CONNECT_TIMEOUT = 2.0
QUIET = 0.6  # seconds without a byte: the peer has nothing more to say
LIMIT = 6.0  # the most one wait may take, whatever the peer does
PAUSE = 0.01  # between two segments: on loopback with TCP_NODELAY, they stay two
MAX_HEAD = 64 * 1024


def pattern(n, seed):
    """n deterministic bytes that look like nothing in HTTP (no CR, LF or ':')."""
    out = bytearray(n)
    x = (seed * 2654435761) & 0xFFFFFFFF
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        b = (x >> 16) & 0xFF
        out[i] = b if b not in (10, 13, 58) else 0x7E
    return bytes(out)


class Response:
    """A parsed response head: status, headers (name, value) in order, the raw bytes."""

    def __init__(self, raw):
        self.raw = raw
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.version = parts[0]
        try:
            self.status = int(parts[1])
        except (IndexError, ValueError):
            self.status = None
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = []
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                self.headers.append((name.strip(), value.strip()))

    def get(self, name):
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None

    def has_token(self, name, token):
        value = self.get(name) or ""
        return any(t.strip().lower() == token for t in value.split(","))

    def line(self):
        return self.raw.split(b"\r\n", 1)[0].decode("latin-1")


class Conn:
    """One connection. `buf` holds what was read and not yet taken."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False
        self.reset = False
        self.started = time.monotonic()
        self._sender = None
        self.send_error = None

    def send(self, *segments):
        """Sends each segment in one write, with a pause between two."""
        for i, seg in enumerate(segments):
            if i:
                time.sleep(PAUSE)
            self.sock.sendall(seg)

    def send_in_background(self, *segments):
        """Sends while the caller reads (large transfers must not deadlock the probe)."""

        def run():
            try:
                self.send(*segments)
            except OSError as e:
                self.send_error = e

        self._sender = threading.Thread(target=run, daemon=True)
        self._sender.start()

    def join_sender(self):
        if self._sender is not None:
            self._sender.join(LIMIT)

    def shut(self):
        """Half-closes: FIN after everything sent so far."""
        self.join_sender()
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.send_error = e

    def _read_once(self, wait):
        self.sock.settimeout(max(wait, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            self.reset = True
            self.eof = True
            return b""
        except OSError:
            self.eof = True
            return b""
        if not data:
            self.eof = True
        self.buf += data
        return data

    def read_until(self, done, quiet=QUIET, limit=LIMIT):
        """Reads until done(buf), EOF, `quiet` seconds of silence or `limit` seconds."""
        start = last = time.monotonic()
        while not done(self.buf) and not self.eof:
            now = time.monotonic()
            if now - last >= quiet or now - start >= limit:
                return False
            data = self._read_once(min(quiet - (now - last), limit - (now - start)))
            if data:
                last = time.monotonic()
        return done(self.buf)

    def read_head(self):
        """The final response head, skipping and returning 1xx interim ones (not 101).

        Returns (interim heads, final head or None); what follows the head stays in buf.
        """
        interim = []
        while True:
            self.read_until(lambda b: b"\r\n\r\n" in b or len(b) > MAX_HEAD)
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return interim, None
            head = Response(self.buf[: end + 4])
            self.buf = self.buf[end + 4 :]
            if head.status is not None and 100 <= head.status < 200 and head.status != 101:
                interim.append(head)
                continue
            return interim, head

    def take(self, n=None):
        out, self.buf = (self.buf, b"") if n is None else (self.buf[:n], self.buf[n:])
        return out

    def collect(self, n, quiet=QUIET):
        """Reads until n bytes are buffered (or the peer stops); returns all buffered."""
        self.read_until(lambda b: len(b) >= n, quiet=quiet)
        # A little more, to see bytes the peer should not have sent.
        self.read_until(lambda b: False, quiet=0.1, limit=0.3)
        return self.take()

    def to_eof(self, quiet=QUIET):
        """Reads until EOF; returns (bytes read, 'EOF' | 'reset' | 'open')."""
        self.read_until(lambda b: False, quiet=quiet)
        got = self.take()
        return got, ("reset" if self.reset else "EOF" if self.eof else "open")

    def close(self):
        self.join_sender()
        try:
            self.sock.close()
        except OSError:
            pass


def preview(data, n=24):
    """The first n bytes as a Python literal, with the total."""
    if not data:
        return "b''"
    more = f"... ({len(data)} bytes)" if len(data) > n else ""
    return repr(bytes(data[:n])) + more


def describe(echo, sent, parts=()):
    """What came back, in words: `sent` is what a correct echo returns; `parts`
    are (name, bytes) the peer might have echoed instead (the request body, ...)."""
    if echo == sent:
        return f"{len(sent)}/{len(sent)} bytes back, in order", True
    for name, extra in parts:
        if extra and echo == extra + sent:
            return (
                f"{len(echo)} bytes back: {name} ({len(extra)} bytes, {preview(extra, 16)}) "
                f"then the {len(sent)} sent bytes",
                False,
            )
        if extra and echo.startswith(extra):
            rest = echo[len(extra) :]
            what, _ = describe(rest, sent)
            return f"{name} ({len(extra)} bytes) first, then {what}", False
    if not echo:
        return f"0/{len(sent)} bytes back: all lost", False
    if len(echo) < len(sent) and sent.endswith(echo):
        return (
            f"{len(echo)}/{len(sent)} bytes back: the first {len(sent) - len(echo)} lost, "
            f"the rest in order",
            False,
        )
    if len(echo) < len(sent) and sent.startswith(echo):
        return (
            f"{len(echo)}/{len(sent)} bytes back: only the first {len(echo)}, in order",
            False,
        )
    k = next((i for i, (a, b) in enumerate(zip(echo, sent)) if a != b), min(len(echo), len(sent)))
    return (
        f"{len(echo)} bytes back for {len(sent)} sent, first difference at byte {k}: "
        f"got {preview(echo[k:], 16)}",
        False,
    )

"""The probe's tunnel checks (standard library only, nothing shared with the
harness): the probe plays both the client and a scripted backend on the proxy's
upstream port, and records what crossed each leg and when.

  tunnel.refused-stays-http.S.raw   the backend refuses with S (426, 400, 403, 200
                                    with a body); then the client sends raw bytes:
                                    do they reach the backend as they were sent?
  tunnel.refused-stays-http.S.next  the same refusal, then a whole request: is it
                                    handled as HTTP, or tunnelled byte for byte?
  tunnel.refused-early-bytes        the upgrade and a pipelined GET /next in one
                                    segment; the backend waits 300 ms, then 426:
                                    did /next reach it before its answer, or after
                                    it byte for byte (tunnel data)?
  tunnel.unoffered-token            the backend answers 101 with a token the
                                    client did not offer: 101 relayed? tunnel?
  tunnel.h2c-not-forwarded          Upgrade: h2c + HTTP2-Settings: what reaches
                                    the backend, and does a tunnel open?
  tunnel.http10-no-switch           an HTTP/1.0 request with Upgrade: the version
                                    and Upgrade the backend sees, 101, tunnel?
  tunnel.connect-*                  (CONNECT proxies) to the open upstream, to a
                                    closed port and to a port the policy denies,
                                    each with early data in the CONNECT's segment.

"Byte for byte" is how a tunnel is told from HTTP handling: the probe's follow-up
requests carry a header with padding a parser drops (`X-Probe:\\t  p  \\t`, RFC
9112 §5: OWS around a field value is not part of it) and a lower/upper-case mix
in a field name, so bytes that reach the backend unchanged were not parsed.
"""

import queue
import re
import socket
import threading
import time

from checks import Observation
from wire import Conn, describe, pattern, preview

DELAY = 0.3  # seconds the backend waits before refusing (tunnel.refused-early-bytes)
SETTLE = 0.5  # seconds to let bytes cross after a step
RAW = b"\x16\x03probe-raw-bytes\x00\x01"  # not HTTP: a TLS-record-like start, no CRLF
H2C_SETTINGS = "AAMAAABkAARAAAAAAAIAAAAA"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
REFUSALS = {
    426: b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 8\r\n\r\nrefused\n",
    400: b"HTTP/1.1 400 Bad Request\r\nContent-Length: 8\r\n\r\nrefused\n",
    403: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 8\r\n\r\nrefused\n",
    200: b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nno switch, ok",
}
NEXT_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnext\n"


def next_request(host, path="/next", absolute=False):
    """A whole request a parser would rewrite: padded value, odd-case name."""
    target = f"http://{host}{path}" if absolute else path
    return f"GET {target} HTTP/1.1\r\nhOsT: {host}\r\nX-Probe:\t  p  \t\r\n\r\n".encode()


class Backend:
    """The scripted upstream. Every connection gets a record: when it was accepted,
    every chunk read (monotonic time, bytes), the requests parsed from it, and
    what was answered when. `script(head_text)` gives (delay, answer bytes,
    tunnel after the answer?) for the check's first request (whether or not the
    proxy forwarded its Upgrade); any other request gets NEXT_ANSWER (keep-alive)."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, int(port)))
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self.records = []
        self.scripted = False
        self.echo = False
        self.conns = []
        self.script = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join(2)
        self.listener.close()
        self.reset(None)

    def reset(self, script, echo=False):
        """A fresh start for the next check: every connection of the last one is
        closed (a proxy that pools upstream connections must open a new one).
        With `echo`, every connection is a raw echo from its first byte (the far
        end of a CONNECT tunnel)."""
        self.echo = echo
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.conns, self.records, self.script = [], [], script
        self.scripted = False  # the script answers the check's first request only
        time.sleep(0.05)

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            rec = {"accepted": time.monotonic(), "chunks": [], "requests": [], "answers": [], "eof": None}
            self.records.append(rec)
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn, rec, self.script, self.echo), daemon=True).start()

    def _serve(self, conn, rec, script, echo):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        q = queue.Queue()

        def reader():  # timestamps every chunk as it arrives, whatever the answering does
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    rec["chunks"].append((time.monotonic(), data))
                    q.put(data)
            except OSError:
                pass
            rec["eof"] = time.monotonic()
            q.put(None)

        threading.Thread(target=reader, daemon=True).start()
        buf, tunnel, deadline = b"", echo, time.monotonic() + 8
        try:
            while time.monotonic() < deadline:
                try:
                    data = q.get(timeout=0.2)
                except queue.Empty:
                    continue
                if data is None:
                    if tunnel:  # the far end's FIN: half-close, as a correct echo does
                        conn.shutdown(socket.SHUT_WR)
                    break
                if tunnel:
                    conn.sendall(data)
                    continue
                buf += data
                while buf and not tunnel:
                    if not buf[:1].isupper():  # not a request line: raw bytes, recorded only
                        buf = b""
                        break
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head, buf = buf[: end + 4], buf[end + 4 :]
                    text = head.decode("latin-1")
                    rec["requests"].append({"at": time.monotonic(), "head": text})
                    # the scripted upstream answers the check's first request as its
                    # script says, with or without the Upgrade (a proxy may drop it)
                    if script is not None and not self.scripted:
                        self.scripted = True
                        delay, answer, switch = script(text)
                        time.sleep(delay)
                        conn.sendall(answer)
                        rec["answers"].append({"at": time.monotonic(), "line": answer.split(b"\r\n", 1)[0].decode()})
                        if switch:
                            tunnel = True
                            if buf:
                                conn.sendall(buf)
                                buf = b""
                    else:
                        conn.sendall(NEXT_ANSWER)
                        rec["answers"].append({"at": time.monotonic(), "line": "HTTP/1.1 200 OK (next)"})
        except OSError:
            pass
        finally:
            conn.close()

    # ---- what the records say --------------------------------------------------------
    def stream(self, rec):
        return b"".join(d for _, d in rec["chunks"])

    def reached_raw(self, data):
        """(connection index, arrival time) where `data` arrived byte for byte, or None."""
        for i, rec in enumerate(self.records):
            at = self.stream(rec).find(data)
            if at >= 0:
                n = 0
                for t, d in rec["chunks"]:
                    n += len(d)
                    if n > at:
                        return i, t
        return None

    def summary(self):
        out = []
        for i, rec in enumerate(self.records):
            out.append({
                "connection": i,
                "requests": [r["head"].split("\r\n", 1)[0] for r in rec["requests"]],
                "heads": [r["head"] for r in rec["requests"]],
                "answers": [a["line"] for a in rec["answers"]],
                "received": preview(self.stream(rec), 80),
                "bytes": len(self.stream(rec)),
            })
        return out


def offer(t, version="HTTP/1.1", token=None, extra=()):
    """The upgrade request for the target's protocol (WebSocket: with key and version)."""
    token = token or token_of(t)
    lines = [f"GET {target_of(t)} {version}", f"Host: {t.upstream}", "Connection: Upgrade", f"Upgrade: {token}"]
    if token == "websocket":
        lines += ["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def switch_answer(token):
    return (f"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: {token}\r\n"
            + ("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" if token == "websocket" else "")
            + "\r\n").encode()


def token_of(t):
    return {"websocket": "websocket", "docker": "tcp", "connect": "websocket"}.get(t.protocol, "echo")


def target_of(t, path=None):
    """The request target: origin-form, or absolute-form through a forward (CONNECT) proxy."""
    path = path or (t.path if t.protocol != "connect" else None) or "/"
    return f"http://{t.upstream}{path}" if t.protocol == "connect" else path


def first_line(data):
    return data.split(b"\r\n", 1)[0].decode("latin-1") if data else "nothing"


def statuses(data):
    """Every status line in what the client read (a second one: a request was answered)."""
    # a status line starts the data or follows a line end (a body may end in a bare LF)
    return [m.decode("latin-1") for m in re.findall(rb"(?:^|\n)(HTTP/1\.[01] \d{3}[^\r\n]*)", data)]


def exchange(t, backend, script, steps, settle=SETTLE):
    """Runs one client connection: `steps` is a list of bytes to send, each after
    the client read what came before it settle; returns (what the client read
    after each step, ending)."""
    backend.reset(script)
    c = Conn(t.address)
    got = []
    try:
        for step in steps:
            if step is not None:
                try:
                    c.send(step)
                except OSError:
                    got.append(b"")
                    break
            c.read_until(lambda b: False, quiet=settle, limit=2.0)
            got.append(c.take())
            if c.eof:
                break
        return got, ("reset" if c.reset else "EOF" if c.eof else "open")
    finally:
        c.close()
        time.sleep(0.05)


def refused_stays_http(t, backend, status):
    refusal = REFUSALS[status]
    script = lambda head: (0, refusal, False)  # noqa: E731
    out = []
    # .raw: the refusal, then bytes that are not HTTP
    got, ending = exchange(t, backend, script, [offer(t), RAW])
    reached = backend.reached_raw(RAW)
    answer = first_line(got[0])
    relayed = answer.startswith(f"HTTP/1.1 {status}") or answer.startswith(f"HTTP/1.0 {status}")
    after = got[1] if len(got) > 1 else b""
    ok = reached is None
    why = ("the raw bytes reached the backend as sent: the proxy tunnelled after a refusal"
           if reached is not None else "the raw bytes did not reach the backend")
    out.append(Observation(
        f"tunnel.refused-stays-http.{status}.raw",
        f"{answer}; then {len(RAW)} raw bytes: {why}; the client then read {preview(after, 40)}, {ending}",
        ok, client_first=preview(got[0], 80), client_after_raw=preview(after, 80), ending=ending,
        relayed=relayed, backend=backend.summary()))
    # .next: the refusal, then a whole request
    nxt = next_request(t.upstream, absolute=t.protocol == "connect")
    got, ending = exchange(t, backend, script, [offer(t), nxt])
    reached = backend.reached_raw(nxt)
    answer = first_line(got[0])
    after = got[1] if len(got) > 1 else b""
    seen = [r for rec in backend.records for r in rec["requests"] if r["head"].startswith("GET /next")]
    if reached is not None:
        why, ok = "GET /next reached the backend byte for byte (tunnelled, not parsed)", False
    elif seen:
        why, ok = "GET /next reached the backend rewritten (parsed as HTTP)", True
    else:
        why, ok = "GET /next did not reach the backend", True
    out.append(Observation(
        f"tunnel.refused-stays-http.{status}.next",
        f"{answer}; then GET /next: {why}; the client read {' / '.join(statuses(after)) or preview(after, 30)}, {ending}",
        ok, client_first=preview(got[0], 80), client_after_next=preview(after, 80), ending=ending,
        relayed=answer.split(" ")[1:2] == [str(status)], backend=backend.summary()))
    return out


def refused_early_bytes(t, backend):
    refusal = REFUSALS[426]
    script = lambda head: (DELAY, refusal, False)  # noqa: E731
    nxt = next_request(t.upstream, absolute=t.protocol == "connect")
    got, ending = exchange(t, backend, script, [offer(t) + nxt], settle=DELAY + SETTLE)
    answered = [a["at"] for rec in backend.records for a in rec["answers"] if "(next)" not in a["line"]]
    answer_at = answered[0] if answered else None
    reached = backend.reached_raw(nxt)
    seen = [(i, r["at"]) for i, rec in enumerate(backend.records) for r in rec["requests"]
            if r["head"].startswith("GET /next")]
    if answer_at is None:
        why, ok = "the upgrade request never reached the backend (or was not answered)", None
    elif reached is not None and reached[1] < answer_at:
        why, ok = (f"GET /next reached the backend {1000 * (answer_at - reached[1]):.0f} ms BEFORE its "
                   f"426, on connection {reached[0]}, byte for byte"), False
    elif reached is not None:
        why, ok = (f"GET /next reached the backend {1000 * (reached[1] - answer_at):.0f} ms after its 426, "
                   f"byte for byte on connection {reached[0]} (tunnel data, not parsed)"), False
    elif seen and seen[0][1] < answer_at:
        why, ok = f"GET /next reached the backend (rewritten) BEFORE its 426, connection {seen[0][0]}", False
    elif seen:
        why, ok = (f"GET /next reached the backend after the 426, rewritten (parsed as HTTP), "
                   f"connection {seen[0][0]}"), True
    else:
        why, ok = "GET /next did not reach the backend", True
    client = got[0] if got else b""
    return [Observation("tunnel.refused-early-bytes",
                        f"client read {' / '.join(statuses(client)) or 'nothing'}, {ending}; {why}", ok,
                        client=preview(client, 120), ending=ending, backend=backend.summary())]


def unoffered_token(t, backend):
    offered = token_of(t)
    other = "echo" if offered != "echo" else "probe-unoffered"
    script = lambda head: (0, switch_answer(other), True)  # noqa: E731
    data = b"\x00probe-tunnel\x00"
    got, ending = exchange(t, backend, script, [offer(t), data])
    answer = first_line(got[0])
    after = got[1] if len(got) > 1 else b""
    through = backend.reached_raw(data) is not None
    back = data in after
    if answer.split(" ")[1:2] == ["101"]:
        ok = False
        why = (f"the client got the 101 for {other!r} (it offered {offered!r}); "
               f"{len(data)} bytes sent: reached the backend {'yes' if through else 'no'}, "
               f"echoed back {'yes' if back else 'no'}: {'a tunnel opened' if through and back else 'no working tunnel'}")
    else:
        ok = not through
        why = f"the 101 for {other!r} was not relayed; bytes after it reached the backend: {'yes' if through else 'no'}"
    return [Observation("tunnel.unoffered-token", f"{answer}: {why}; {ending}", ok,
                        client_first=preview(got[0], 120), client_after=preview(after, 60), ending=ending,
                        backend=backend.summary())]


def h2c(t, backend):
    script = lambda head: (0, switch_answer("h2c"), True)  # noqa: E731
    req = (f"GET {target_of(t)} HTTP/1.1\r\nHost: {t.upstream}\r\nConnection: Upgrade, HTTP2-Settings\r\n"
           f"Upgrade: h2c\r\nHTTP2-Settings: {H2C_SETTINGS}\r\n\r\n").encode()
    got, ending = exchange(t, backend, script, [req, H2_PREFACE])
    heads = [r["head"] for rec in backend.records for r in rec["requests"]]
    head = heads[0] if heads else ""
    lower = head.lower()
    up = "upgrade: h2c" in lower
    settings = "http2-settings:" in lower
    answer = first_line(got[0])
    after = got[1] if len(got) > 1 else b""
    tunnel = backend.reached_raw(H2_PREFACE) is not None and H2_PREFACE in after
    what = ("no request reached the backend" if not heads else
            f"the backend got Upgrade: h2c {'yes' if up else 'no'}, HTTP2-Settings {'yes' if settings else 'no'}")
    return [Observation("tunnel.h2c-not-forwarded",
                        f"{what}; the client read {answer}; the HTTP/2 preface crossed both ways: "
                        f"{'yes (a tunnel)' if tunnel else 'no'}; {ending}",
                        not up, backend_head=head, client_first=preview(got[0], 120), ending=ending,
                        backend=backend.summary())]


def http10(t, backend):
    token = token_of(t)

    def script(head):  # a backend that switches whatever the version: what does the proxy let through?
        return 0, switch_answer(token), True

    data = b"\x00probe-http10\x00"
    got, ending = exchange(t, backend, script, [offer(t, version="HTTP/1.0"), data])
    heads = [r["head"] for rec in backend.records for r in rec["requests"]]
    head = heads[0] if heads else ""
    version = head.split("\r\n", 1)[0].rsplit(" ", 1)[-1] if head else "-"
    up = any(line.lower().startswith("upgrade:") for line in head.split("\r\n")[1:])
    answer = first_line(got[0])
    after = got[1] if len(got) > 1 else b""
    tunnel = backend.reached_raw(data) is not None and data in after
    switched = answer.split(" ")[1:2] == ["101"]
    ok = not (version == "HTTP/1.1" and up) and not switched and not tunnel
    what = ("no request reached the backend" if not head else
            f"the backend got {version} with Upgrade {'yes' if up else 'no'}")
    return [Observation("tunnel.http10-no-switch",
                        f"{what}; the client read {answer}; a tunnel opened: {'yes' if tunnel else 'no'}; {ending}",
                        ok, backend_head=head, client_first=preview(got[0], 120), ending=ending,
                        backend=backend.summary())]


def connect_through(t, backend):
    """CONNECT to a closed port through a proxy that is no CONNECT proxy, with a
    request as early data: a reverse proxy may send the CONNECT on to its backend
    (Varnish's builtin VCL pipes unknown methods); the backend waits 300 ms, then
    refuses with 405. Did the early request reach it before that answer?"""
    refusal = b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"
    script = lambda head: (DELAY, refusal, False)  # noqa: E731
    target = "127.0.0.1:9"  # discard: closed on loopback
    req = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
    got, ending = exchange(t, backend, script, [req + EARLY], settle=DELAY + SETTLE)
    data = got[0] if got else b""
    st = statuses(data)
    heads = [r["head"].split("\r\n", 1)[0] for rec in backend.records for r in rec["requests"]]
    answered = [a["at"] for rec in backend.records for a in rec["answers"] if "(next)" not in a["line"]]
    reached = backend.reached_raw(EARLY)
    early_first = reached is not None and answered and reached[1] < answered[0]
    two_xx = bool(st) and st[0].split(" ")[1:2] == ["200"]
    ok = not early_first and not two_xx and len(st) <= 1
    what = (f"the CONNECT reached the backend ({heads[0]})" if heads else "the CONNECT did not reach the backend")
    if early_first:
        what += f"; the early request reached it {1000 * (answered[0] - reached[1]):.0f} ms BEFORE its answer, byte for byte"
    return [Observation("tunnel.connect-through.early-data",
                        f"{what}; the client read {' / '.join(st) or 'nothing'}, {ending}", ok,
                        client=preview(data, 160), ending=ending, backend=backend.summary())]


def upgrade_checks(t):
    backend = Backend(t.upstream)
    try:
        out = []
        for status in (426, 400, 403, 200):
            out += refused_stays_http(t, backend, status)
        out += refused_early_bytes(t, backend)
        out += unoffered_token(t, backend)
        out += h2c(t, backend)
        out += http10(t, backend)
        if t.protocol != "connect":
            out += connect_through(t, backend)
        return out
    finally:
        backend.stop()


# ---- CONNECT -------------------------------------------------------------------------
EARLY = b"GET /early HTTP/1.1\r\nHost: early\r\n\r\n"


def connect_try(t, target, backend):
    """CONNECT target with a request as early data in the same segment."""
    req = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()
    got, ending = exchange(t, backend, None, [req + EARLY], settle=0.8) if backend else \
        _bare(t, req + EARLY)
    data = got[0] if got else b""
    return data, ending


def _bare(t, data):
    c = Conn(t.address)
    try:
        c.send(data)
        c.read_until(lambda b: False, quiet=0.8, limit=3.0)
        return [c.take()], ("reset" if c.reset else "EOF" if c.eof else "open")
    finally:
        c.close()


def connect_checks(t, denied):
    out = []
    host = t.upstream.rsplit(":", 1)[0]
    # open: the backend echoes the early data (it is a tunnel's first bytes)
    backend = Backend(t.upstream)
    try:
        backend.reset(None)
        c = Conn(t.address)
        req = f"CONNECT {t.upstream} HTTP/1.1\r\nHost: {t.upstream}\r\n\r\n".encode()
        try:
            sent_at = time.monotonic()
            c.send(req + EARLY)
            c.read_until(lambda b: b"\r\n\r\n" in b, quiet=1.0, limit=3.0)
            head_at = time.monotonic()
            c.read_until(lambda b: False, quiet=SETTLE, limit=2.0)
            got = c.take()
        finally:
            c.close()
        reached = backend.reached_raw(EARLY)
        answered = statuses(got)
        ok = bool(answered) and answered[0].split(" ")[1:2] == ["200"] and reached is not None
        out.append(Observation(
            "tunnel.connect-open.early-data",
            f"{answered[0] if answered else 'no answer'}; the early request reached the backend "
            + (f"byte for byte {1000 * (reached[1] - sent_at):.0f} ms after it was sent "
               f"(the client read the CONNECT answer after {1000 * (head_at - sent_at):.0f} ms)"
               if reached else "NOT AT ALL") + f"; the backend's answers: {[a['line'] for r in backend.records for a in r['answers']]}",
            ok, client=preview(got, 120), backend=backend.summary()))
    finally:
        backend.stop()
    # half-close: 200 bytes with the CONNECT, 300 more and our FIN at once after the 200
    backend = Backend(t.upstream)
    try:
        backend.reset(None, echo=True)
        early, late = pattern(200, 9), pattern(300, 10)
        c = Conn(t.address)
        try:
            c.send(req + early)
            c.read_until(lambda b: b"\r\n\r\n" in b, quiet=1.0, limit=3.0)
            head, _, rest = c.take().partition(b"\r\n\r\n")
            c.buf = rest
            c.send(late)
            c.shut()
            echo, ending = c.to_eof()
        finally:
            c.close()
        said, ok = describe(echo, early + late)
        time.sleep(0.2)  # the proxy may flush the client's last bytes after closing our side
        upstream_got = sum(len(backend.stream(r)) for r in backend.records)
        out.append(Observation(
            "tunnel.connect-open.fin-at-once",
            f"{first_line(head)}; {said}; after our FIN: {ending}; the upstream received {upstream_got} bytes",
            ok and ending == "EOF", echo_first=preview(echo), ending=ending, backend=backend.summary()))
    finally:
        backend.stop()
    # closed: nothing listens on the upstream port now
    for name, target in (("closed", t.upstream), ("denied", denied or f"{host}:1")):
        data, ending = connect_try(t, target, None)
        st = statuses(data)
        two_xx = bool(st) and st[0].split(" ")[1:2] == ["200"]
        answered_early = len(st) > 1
        ok = not two_xx and not answered_early
        out.append(Observation(
            f"tunnel.connect-{name}.early-data",
            f"CONNECT {target}: {' / '.join(st) or 'no answer'}; the early request answered as a request: "
            f"{'YES' if answered_early else 'no'}; {ending}",
            ok, client=preview(data, 160), ending=ending))
    return out

"""The probe's checks: each sends the bytes of one black-box case category and
records what came back. A check returns an Observation: a one-line summary, whether
that is what a conformant peer does (`conforms`: True, False, or None when the
question does not apply), and the raw evidence (status lines, byte counts, first
bytes). Names say what the check does; interop/README.md maps them to case IDs.
"""

import time

import ws
from wire import Conn, describe, pattern, preview

UNKNOWN_TOKEN = "probe-unknown-token"
HTTP10_RULE = 'RFC 9110 §7.8: "A server that receives an Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field"'
UNKNOWN_RULE = "a token the peer cannot speak: switching is its choice to make, refusing is usual"
DOCKER_PATH = "/containers/probe/attach?stream=1&stdin=1&stdout=1"


class Target:
    def __init__(self, peer, mode, protocol, address, path, upstream):
        self.peer, self.mode, self.protocol = peer, mode, protocol
        self.address, self.upstream = address, upstream
        self.path = path if path and path != "-" else None
        self.upstream_server = None  # set by probe.py for proxies

    @property
    def raw_echo(self):
        return self.protocol in ("echo", "docker", "upgrade")

    def request(self, headers=(), token=None, version="HTTP/1.1", method=None, upgrade=True):
        """The request head a black-box client sends for this target's protocol."""
        host = self.upstream if self.mode == "proxy" else self.address
        if self.protocol == "docker":
            method, path, default_token = method or "POST", self.path or DOCKER_PATH, "tcp"
        elif self.protocol == "websocket":
            method, path, default_token = method or "GET", self.path or "/", "websocket"
        else:
            method, path, default_token = method or "GET", self.path or "/", "echo"
        lines = [f"{method} {path} {version}", f"Host: {host}"]
        if upgrade:
            lines += ["Connection: Upgrade", f"Upgrade: {token or default_token}"]
        lines += list(headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Observation(dict):
    def __init__(self, check, summary, conforms, **evidence):
        super().__init__(check=check, summary=summary, conforms=conforms, evidence=evidence)


def switched(target, head, explicit=False):
    if head is None:
        return False
    return head.status == 200 if explicit else head.status == 101


def head_words(interim, head):
    words = [h.line() for h in interim]
    words.append(head.line() if head is not None else "no response head")
    return " -> ".join(words)


def upstream_evidence(target):
    if target.upstream_server is None:
        return {}
    rec = target.upstream_server.last()
    return {"upstream": rec} if rec else {"upstream": "no connection reached the upstream"}


def echo_exchange(target, name, segments, sent, late=b"", fin="after-echo", parts=(),
                  explicit=False, wait_open=0.0, answer_wait=0.0):
    """Sends `segments` (the first holds the request), then after the answer `late`;
    reads the echo of `sent` (+ `late`); then the FIN as `fin` says:
    `after-echo` (wait for the echo, then FIN), `at-once` (FIN right after `late`),
    `none` (never). With `answer_wait`, waits that long at most for a response head
    after the first segment (a client that waits for 100 Continue), then sends the
    rest. Returns an Observation."""
    c = Conn(target.address)
    try:
        before = None
        if answer_wait:
            c.send(segments[0])
            c.read_until(lambda b: b"\r\n\r\n" in b, quiet=answer_wait, limit=answer_wait)
            before = c.buf.split(b"\r\n", 1)[0].decode("latin-1") if c.buf else "nothing"
            c.send(*segments[1:])
        elif sum(len(s) for s in segments) > 200_000:
            c.send_in_background(*segments)
        else:
            c.send(*segments)
        interim, head = c.read_head()
        ev = {"response": head_words(interim, head)}
        if before is not None:
            ev["before_body"] = before
        if not switched(target, head, explicit):
            rest, ending = c.to_eof(quiet=0.3)
            ev.update(after_head=preview(rest), ending=ending, **upstream_evidence(target))
            return Observation(name, f"did not switch: {ev['response']}", None, **ev)
        want = sent + late
        if late:
            if len(late) > 60_000:
                c.send_in_background(late)
            else:
                c.send(late)
        if fin == "at-once":
            c.shut()
        echo = c.collect(len(want))
        said, ok = describe(echo, want, parts)
        ev.update(echo_bytes=len(echo), sent_bytes=len(want), echo_first=preview(echo))
        if wait_open:
            time.sleep(wait_open)
            c.read_until(lambda b: False, quiet=0.05, limit=0.1)
            ev["after_wait"] = "closed by the peer" if c.eof else "still open"
            ok = ok and not c.eof
            said += f"; after {wait_open:.0f} s idle: {ev['after_wait']}"
        if fin == "after-echo":
            c.shut()
        if fin != "none":
            rest, ending = c.to_eof()
            ev.update(after_fin=preview(rest), ending=ending)
            said += f"; after our FIN: {ending}" + (f" (+{len(rest)} more bytes)" if rest else "")
            ok = ok and ending == "EOF" and not rest
        ev.update(upstream_evidence(target))
        return Observation(name, f"{head.status}; {said}", ok, **ev)
    finally:
        c.close()


def raw_checks(t):
    """The checks for a raw echo after the switch (echo, docker, an upgrade proxy)."""
    req = t.request()
    out = []

    c = Conn(t.address)
    try:
        c.send(req)
        interim, head = c.read_head()
        if head is None or head.status != 101:
            out.append(Observation("switch-response", f"no 101: {head_words(interim, head)}", False))
        else:
            problems = []
            if not head.has_token("connection", "upgrade"):
                problems.append(f"Connection is {head.get('connection')!r}")
            if not head.get("upgrade"):
                problems.append("no Upgrade header")
            for name in ("content-length", "transfer-encoding"):
                if head.get(name) is not None:
                    problems.append(f"{name}: {head.get(name)} in a 1xx")
            out.append(Observation(
                "switch-response",
                f"{head.line()}; Upgrade: {head.get('upgrade')}; Connection: {head.get('connection')}"
                + ("; " + "; ".join(problems) if problems else "; no Content-Length, no Transfer-Encoding"),
                not problems, head=head.raw.decode("latin-1")))
    finally:
        c.close()

    for n in (1, 300, 4500, 70000):
        early = pattern(n, n)
        out.append(echo_exchange(t, f"early-data.same-segment.{n}", [req + early], early))

    early = pattern(40, 2)
    out.append(echo_exchange(t, "head-split.crlfcrlf", [req[:-3], req[-3:-1], req[-1:] + early], early))
    cuts = [2, 9, 18, 26, len(req) - 4, len(req) - 3, len(req) - 2, len(req) - 1]
    segs = [req[a:b] for a, b in zip([0] + cuts, cuts + [len(req)])] + [early]
    out.append(echo_exchange(t, "head-split.every-point", segs, early))

    out.append(echo_exchange(t, "after-101-echo", [req], b"", late=pattern(16, 18)))
    early = pattern(16, 3)
    out.append(echo_exchange(t, "early-data.delayed", [req, early], early))

    host = t.upstream if t.mode == "proxy" else t.address
    http_like = f"GET /next HTTP/1.1\r\nHost: {host}\r\nX-Pad: ".encode()
    http_like = (http_like + b"p" * 90)[:86] + b"\r\n\r\n"
    late_http = (b"GET /later HTTP/1.1\r\nHost: x\r\n" + b"q" * 60)[:56] + b"\r\n\r\n"
    out.append(echo_exchange(t, "pipelined-http-after-upgrade", [req + http_like], http_like, late=late_http))

    early = pattern(24, 4)
    body = pattern(100, 5)
    r = t.request(headers=["Content-Length: 100"])
    out.append(echo_exchange(t, "body.content-length", [r + body + early], early,
                             parts=[("the Content-Length body", body)]))
    c1, c2 = pattern(50, 6), pattern(10, 7)
    chunked = b"32\r\n" + c1 + b"\r\na\r\n" + c2 + b"\r\n0\r\n\r\n"
    r = t.request(headers=["Transfer-Encoding: chunked"])
    out.append(echo_exchange(t, "body.chunked", [r + chunked + early], early,
                             parts=[("the chunked body with its framing", chunked)]))
    one = b"10\r\n" + pattern(16, 23) + b"\r\n0\r\n\r\n"
    r = t.request(headers=["Transfer-Encoding: chunked"])
    out.append(echo_exchange(t, "body.chunked.one-chunk", [r + one + early], early,
                             parts=[("the chunked body with its framing", one)]))
    r = t.request(headers=["Transfer-Encoding: chunked"])
    out.append(echo_exchange(t, "body.empty-chunked", [r + b"0\r\n\r\n" + early], early,
                             parts=[("the empty chunked body's 0\\r\\n\\r\\n", b"0\r\n\r\n")]))

    # The body's last 3 bytes in a segment of their own, after a pause: the peer
    # has answered before they came (handoff.body.never-read, .read-in-part,
    # .empty-chunked-never-read).
    body = pattern(40, 19)
    msg = t.request(headers=["Content-Length: 40"]) + body
    out.append(echo_exchange(t, "body.content-length.tail-later", [msg[:-3], msg[-3:] + early], early,
                             parts=[("the Content-Length body", body)]))
    chunks = [pattern(12, 20), pattern(9, 21), pattern(7, 22)]
    chunked = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
    msg = t.request(headers=["Transfer-Encoding: chunked"]) + chunked
    out.append(echo_exchange(t, "body.chunked.tail-later", [msg[:-3], msg[-3:] + early], early,
                             parts=[("the chunked body with its framing", chunked)]))
    msg = t.request(headers=["Transfer-Encoding: chunked"]) + b"0\r\n\r\n"
    out.append(echo_exchange(t, "body.empty-chunked.tail-later", [msg[:-3], msg[-3:] + early], early,
                             parts=[("the empty chunked body's 0\\r\\n\\r\\n", b"0\r\n\r\n")]))

    body = pattern(20, 8)
    r = t.request(headers=["Content-Length: 20", "Expect: 100-continue"])
    # A client that waits (1 s at most) for 100 Continue before its body
    # (expect-continue.client-waits, .body-never-read).
    o = echo_exchange(t, "expect-continue.client-waits", [r, body + early], early,
                      parts=[("the Content-Length body", body)], answer_wait=1.0)
    first = o["evidence"].get("before_body", "nothing")
    got_100 = first.startswith("HTTP/1.1 100")
    o["summary"] = f"head alone, then up to 1 s: {first}; " + o["summary"]
    o["conforms"] = bool(o["conforms"]) and got_100
    out.append(o)

    o = echo_exchange(t, "expect-continue", [r + body + early], early,
                      parts=[("the Content-Length body", body)])
    got_100 = o["evidence"].get("response", "").find(" 100 ") >= 0
    o["summary"] = ("100 Continue before the 101" if got_100 else "NO 100 Continue before the 101") \
        + "; " + o["summary"]
    o["conforms"] = bool(o["conforms"]) and got_100
    out.append(o)

    out.append(expect_head_only(t))
    out.append(no_switch_expected(t, "http10-upgrade", t.request(version="HTTP/1.0"), HTTP10_RULE))
    out.append(no_switch_expected(t, "http10-upgrade.with-fin", t.request(version="HTTP/1.0"), HTTP10_RULE, fin=True))
    out.append(no_switch_expected(t, "unknown-token", t.request(token=UNKNOWN_TOKEN), UNKNOWN_RULE))
    out.append(no_switch_expected(t, "unknown-token.with-fin", t.request(token=UNKNOWN_TOKEN), UNKNOWN_RULE, fin=True))

    early, late = pattern(200, 9), pattern(300, 10)
    out.append(echo_exchange(t, "halfclose.fin-at-once", [req + early], early, late=late, fin="at-once"))
    early = pattern(8, 11)
    out.append(echo_exchange(t, "halfclose.fin-after-echo", [req + early], early))
    out.append(fin_with_request(t))
    early = pattern(8, 12)
    out.append(echo_exchange(t, "connection-stays-open", [req + early], early, wait_open=1.0))
    early, late = pattern(70000, 13), pattern(70000, 14)
    out.append(echo_exchange(t, "large-bidirectional", [req + early], early, late=late))
    if t.protocol == "docker":
        r = t.request(upgrade=False)
        early = pattern(20, 15)
        out.append(echo_exchange(t, "docker.explicit-200", [r + early], early, explicit=True))
    return out


def expect_head_only(t):
    """Expect: 100-continue, head alone: what does the peer send while it waits?"""
    c = Conn(t.address)
    try:
        c.send(t.request(headers=["Content-Length: 20", "Expect: 100-continue"]))
        c.read_until(lambda b: False, quiet=1.0, limit=1.0)
        got = c.take()
        first = got.split(b"\r\n", 1)[0].decode("latin-1") if got else "nothing"
        conforms = got.startswith(b"HTTP/1.1 100") or not got
        return Observation("expect-continue.head-only",
                           f"head only, 1 s wait: {first}" + (" (a 101 before the body was sent)" if b" 101 " in got[:16] else ""),
                           conforms, received=preview(got, 60))
    finally:
        c.close()


def no_switch_expected(t, name, request, rule, fin=False):
    """A request the peer may (or, for HTTP/1.0, must) refuse: does it switch?
    With `fin`, our FIN follows the request at once."""
    c = Conn(t.address)
    try:
        c.send(request)
        if fin:
            c.shut()
        interim, head = c.read_head()
        ev = {"response": head_words(interim, head), "rule": rule}
        if head is not None and head.status == 101:
            probe = pattern(8, 16)
            if not fin:
                c.send(probe)
            echo = c.collect(0 if fin else 8)
            rest, ending = c.to_eof(quiet=0.3)
            ev.update(echo_after_101=preview(echo), ending=ending, **upstream_evidence(t))
            sent = "our FIN followed the request" if fin else f"8 bytes sent after it, {len(echo)} came back"
            offered = request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            offered = next((l.split(":", 1)[1].strip() for l in offered.split("\r\n")[1:]
                            if l.lower().startswith("upgrade:")), "")
            named = head.get("upgrade") or ""
            # RFC 9110 §7.8: "A server MUST NOT switch to a protocol that was not
            # indicated by the client in the corresponding request's Upgrade header field"
            unoffered = bool(offered) and named.lower() != offered.lower()
            summary = f"SWITCHED: {head.line()}; Upgrade: {named or '(none)'}" \
                + (f" (NOT the offered {offered!r})" if unoffered else "") + f"; {sent}; then {ending}"
            conforms = False if name.startswith("http10-upgrade") or unoffered else None
        elif head is None and not fin and not c.eof:
            # No answer and still open: is it a tunnel with no response head?
            # (Apache relays an HTTP/1.0 upgrade and drops the 101.)
            sent = pattern(8, 16)
            c.send(ws.frame(sent, seed=16) if t.protocol == "websocket" else sent)
            rest, ending = c.to_eof(quiet=0.3)
            tunnel = sent in rest
            ev.update(after_bytes=preview(rest), ending=ending, **upstream_evidence(t))
            summary = ("NO response head, but a TUNNEL: 8 bytes sent came back" if tunnel
                       else f"no response head; 8 bytes sent, {len(rest)} came back") + f"; then {ending}"
            return Observation(name, summary, False if tunnel else True, **ev)
        else:
            rest, ending = c.to_eof(quiet=0.3)
            ev.update(after_head=preview(rest), ending=ending, **upstream_evidence(t))
            explicit = head is not None and head.status == 200 and "raw-stream" in (head.get("content-type") or "")
            what = "no switch, an explicit hijack (Docker's 200 raw-stream)" if explicit else "refused"
            summary = f"{what}: {head_words(interim, head)}; then {ending}"
            conforms = True
        return Observation(name, summary, conforms, **ev)
    finally:
        c.close()


def fin_with_request(t):
    """Request, 100 bytes and our FIN in one go, before any answer."""
    req = t.request()
    early = pattern(100, 17)
    c = Conn(t.address)
    try:
        c.send(req + early)
        c.shut()
        interim, head = c.read_head()
        if head is None or head.status != 101:
            rest, ending = c.to_eof(quiet=0.3)
            return Observation("halfclose.fin-with-request", f"no 101: {head_words(interim, head)}; {ending}",
                               False, after_head=preview(rest), **upstream_evidence(t))
        rest, ending = c.to_eof()
        said, ok = describe(rest, early)
        return Observation("halfclose.fin-with-request", f"101; {said}; then {ending}", ok and ending == "EOF",
                           echo_first=preview(rest), ending=ending, **upstream_evidence(t))
    finally:
        c.close()

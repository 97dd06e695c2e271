"""The probe's WebSocket checks (RFC 6455): a handshake with a valid 16-byte key,
masked frames in the handshake's segment or after the 101, a split frame, data
then a close frame. Echoed messages are decoded from the server's frames."""

import time

import ws
from checks import HTTP10_RULE, UNKNOWN_RULE, UNKNOWN_TOKEN, Observation, head_words, no_switch_expected
from wire import Conn, pattern, preview

OLD_HARNESS_KEY = "aGlqYWNrLWhhcm5lc3MtMTY="  # decodes to 17 bytes


def ws_request(t, key, version="HTTP/1.1", token="websocket"):
    return t.request(headers=[f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"],
                     version=version, token=token)


def words(messages, sent):
    if messages == sent:
        return f"{len(sent)}/{len(sent)} messages back, in order ({sum(map(len, sent))} bytes)", True
    got = [len(m) for m in messages]
    want = [len(m) for m in sent]
    return f"messages back {got} for {want} sent (lengths in bytes)", False


def ws_exchange(t, name, early_frames, late_frames=(), close=False, fin="after-echo",
                split_at=None, wait_open=0.0, seed=1):
    """Handshake with early_frames in its segment; after the 101, late_frames (and a
    close frame when `close`), split at byte `split_at` if given. Reads the echoed
    messages, then FIN as `fin` says."""
    key = ws.key(seed)
    req = ws_request(t, key)
    early = b"".join(ws.frame(p, seed=seed * 100 + i) for i, p in enumerate(early_frames))
    late = b"".join(ws.frame(p, seed=seed * 200 + i) for i, p in enumerate(late_frames))
    if close:
        late += ws.close_frame(seed=seed * 300)
    sent = list(early_frames) + list(late_frames)
    c = Conn(t.address)
    try:
        if len(early) > 60_000:
            c.send_in_background(req + early)
        else:
            c.send(req + early)
        interim, head = c.read_head()
        ev = {"response": head_words(interim, head), "key": key}
        if head is None or head.status != 101:
            rest, ending = c.to_eof(quiet=0.3)
            ev.update(after_head=preview(rest, 60), ending=ending)
            return Observation(name, f"no 101: {ev['response']} {preview(rest, 60)}", False, **ev)
        good_accept = head.get("sec-websocket-accept") == ws.accept(key)
        ev["accept_ok"] = good_accept
        if late:
            if split_at is not None:
                c.send(late[:split_at], late[split_at:])
            elif len(late) > 60_000:
                c.send_in_background(late)
            else:
                c.send(late)
        if fin == "at-once":
            c.shut()
        want = sum(len(p) for p in sent)

        def enough(buf):
            msgs, closed, _, _ = ws.decode(buf)
            return sum(map(len, msgs)) >= want and (not close or closed is not None)

        c.read_until(enough)
        data = c.take()
        messages, close_payload, rest, problems = ws.decode(data)
        said, ok = words(messages, sent)
        ok = ok and good_accept and not problems
        ev.update(echo_bytes=len(data), echo_first=preview(data),
                  server_close=None if close_payload is None else preview(close_payload))
        if problems:
            said += "; " + "; ".join(sorted(set(problems)))
        if not good_accept:
            said += f"; Sec-WebSocket-Accept {head.get('sec-websocket-accept')!r} is wrong"
        if close:
            said += "; server close frame " + ("after them" if close_payload is not None else "MISSING")
            ok = ok and close_payload is not None
        if wait_open:
            time.sleep(wait_open)
            c.read_until(lambda b: False, quiet=0.05, limit=0.1)
            ev["after_wait"] = "closed by the peer" if c.eof else "still open"
            ok = ok and not c.eof
            said += f"; after {wait_open:.0f} s idle: {ev['after_wait']}"
        if fin == "after-echo":
            c.shut()
        more, ending = c.to_eof()
        ev.update(ending=ending, after=preview(more))
        said += f"; then {ending}"
        return Observation(name, f"101; {said}", ok, **ev)
    finally:
        c.close()


def ws_body_exchange(t, name, headers, body, tail_later=False, wait_for_100=False, seed=13):
    """A GET handshake with a request body (RFC 9110 §7.8: the new protocol starts
    after the request message): the body with the head, or the head alone and up
    to 1 s for a 100 when `wait_for_100`, its last 3 bytes in a later segment
    when `tail_later`; after a 101, one masked frame. Says
    whether the frame came back, and names what else did: an HTTP response after
    the 101, a close frame and its code."""
    key = ws.key(seed)
    head = ws_request(t, key)[:-2] + "".join(h + "\r\n" for h in headers).encode() + b"\r\n"
    message = pattern(16, seed)
    c = Conn(t.address)
    try:
        before_body = None
        ev_send = None
        if wait_for_100:
            c.send(head)
            c.read_until(lambda b: b"\r\n\r\n" in b, quiet=1.0, limit=1.0)
            got = c.buf
            before_body = got.split(b"\r\n", 1)[0].decode("latin-1") if got else "nothing"
            try:
                c.send(body)
            except OSError as e:  # the peer closed while we waited
                before_body += f" (the body could not be sent: {e})"
        else:
            try:
                c.send(*([head + body[:-3], body[-3:]] if tail_later else [head + body]))
            except OSError as e:  # the peer answered and closed before the tail
                ev_send = str(e)
        interim, response = c.read_head()
        ev = {"response": head_words(interim, response), "key": key}
        if before_body is not None:
            ev["before_body"] = before_body
        if ev_send is not None:
            ev["send_error"] = ev_send
        prefix = "" if before_body is None else f"head alone, then up to 1 s: {before_body}; "
        got_100 = any(h.status == 100 for h in interim)
        expects = any(h.lower().startswith("expect:") for h in headers)
        if response is None or response.status != 101:
            rest, ending = c.to_eof(quiet=0.3)
            ev.update(after_head=preview(rest, 60), ending=ending)
            return Observation(name, f"{prefix}did not switch: {ev['response']}; then {ending}", None, **ev)
        try:
            c.send(ws.frame(message, seed=seed * 7))
        except OSError as e:
            ev["send_error"] = str(e)
        c.read_until(lambda b: sum(map(len, ws.decode(b)[0])) >= len(message) or b.startswith(b"HTTP/"))
        data = c.take()
        c.shut()
        more, ending = c.to_eof()
        data += more
        ev.update(after_101=preview(data, 60), ending=ending)
        if data.startswith(b"HTTP/1."):
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            return Observation(name, f"{prefix}101, then an HTTP response in the WebSocket stream: {line} "
                               f"({len(data)} bytes after the 101's head); then {ending}", False, **ev)
        messages, close, _, problems = ws.decode(data)
        echoed = messages[:1] == [message]
        said = f"{prefix}101" + ("" if not expects else (" after a 100" if got_100 else ", NO 100 Continue before it"))
        said += "; the frame after the 101 came back" if echoed else f"; the frame after the 101 did NOT come back ({len(messages)} messages)"
        if close is not None and len(close) >= 2:
            said += f"; server close frame, code {int.from_bytes(close[:2], 'big')}"
        if problems:
            said += "; " + "; ".join(sorted(set(problems)))
        conforms = echoed and not problems and (got_100 or not expects)
        if wait_for_100:
            conforms = conforms and before_body.startswith("HTTP/1.1 100")
        return Observation(name, f"{said}; then {ending}", conforms, **ev)
    finally:
        c.close()


def websocket_body_checks(t):
    """The body and Expect cases of the echo family, in a WebSocket handshake."""
    out = []
    body = pattern(20, 41)
    out.append(ws_body_exchange(t, "websocket.body.content-length", ["Content-Length: 20"], body))
    out.append(ws_body_exchange(t, "websocket.body.content-length.tail-later", ["Content-Length: 20"], body,
                                tail_later=True, seed=14))
    chunks = [pattern(12, 42), pattern(9, 43)]
    chunked = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
    out.append(ws_body_exchange(t, "websocket.body.chunked", ["Transfer-Encoding: chunked"], chunked, seed=15))
    out.append(ws_body_exchange(t, "websocket.body.chunked.tail-later", ["Transfer-Encoding: chunked"], chunked,
                                tail_later=True, seed=19))
    out.append(ws_body_exchange(t, "websocket.body.empty-chunked", ["Transfer-Encoding: chunked"], b"0\r\n\r\n",
                                seed=16))
    out.append(ws_body_exchange(t, "websocket.body.empty-chunked.tail-later", ["Transfer-Encoding: chunked"],
                                b"0\r\n\r\n", tail_later=True, seed=20))
    expect = ["Content-Length: 20", "Expect: 100-continue"]
    out.append(ws_body_exchange(t, "websocket.expect-continue", expect, body, seed=17))
    out.append(ws_body_exchange(t, "websocket.expect-continue.client-waits", expect, body, wait_for_100=True,
                                seed=18))
    return out


def websocket_checks(t):
    out = []
    c = Conn(t.address)
    try:
        c.send(ws_request(t, OLD_HARNESS_KEY))
        interim, head = c.read_head()
        out.append(Observation("websocket.key-17-bytes",
                               f"key that decodes to 17 bytes: {head_words(interim, head)}",
                               None if head is None else head.status != 101,
                               rule='RFC 6455 §4.1: the key "MUST be a nonce consisting of a randomly selected 16-byte value"'))
    finally:
        c.close()

    key = ws.key(7)
    c = Conn(t.address)
    try:
        c.send(ws_request(t, key))
        interim, head = c.read_head()
        if head is None or head.status != 101:
            out.append(Observation("websocket.handshake", f"no 101: {head_words(interim, head)}", False))
        else:
            problems = []
            if head.get("sec-websocket-accept") != ws.accept(key):
                problems.append(f"Sec-WebSocket-Accept {head.get('sec-websocket-accept')!r}, want {ws.accept(key)!r}")
            if not head.has_token("connection", "upgrade"):
                problems.append(f"Connection is {head.get('connection')!r}")
            if not head.has_token("upgrade", "websocket"):
                problems.append(f"Upgrade is {head.get('upgrade')!r}")
            for name in ("content-length", "transfer-encoding"):
                if head.get(name) is not None:
                    problems.append(f"{name}: {head.get(name)} in a 1xx")
            out.append(Observation("websocket.handshake",
                                   f"{head.line()}; accept verified" if not problems else f"{head.line()}; " + "; ".join(problems),
                                   not problems, head=head.raw.decode("latin-1"), key=key))
    finally:
        c.close()

    sizes = {"small": 16, "4k": 4500, "64k": 70000}
    for label, n in sizes.items():
        out.append(ws_exchange(t, f"websocket.frames-in-handshake.{label}", [pattern(n, n)], seed=n))
    out.append(ws_exchange(t, "websocket.frames-in-handshake.several",
                           [pattern(5, 21), pattern(300, 22), pattern(40, 23)], seed=3))
    out.append(ws_exchange(t, "websocket.frame-split", [], [pattern(300, 24)], split_at=5, seed=4))
    out.append(ws_exchange(t, "websocket.data-then-close", [], [pattern(200, 25), pattern(300, 26)],
                           close=True, seed=5))
    out.append(ws_exchange(t, "websocket.halfclose.fin-at-once", [pattern(200, 27)], [pattern(300, 28)],
                           close=True, fin="at-once", seed=6))
    out.append(ws_exchange(t, "websocket.after-101-echo", [], [pattern(5, 29), pattern(5, 30)], seed=8))
    out.append(ws_exchange(t, "websocket.connection-stays-open", [pattern(8, 31)], wait_open=1.0, seed=9))
    out.append(ws_exchange(t, "websocket.large-bidirectional", [pattern(70000, 32)], [pattern(70000, 33)], seed=10))
    for fin in (False, True):
        more = ".with-fin" if fin else ""
        out.append(no_switch_expected(t, "http10-upgrade" + more, ws_request(t, ws.key(11), version="HTTP/1.0"),
                                      HTTP10_RULE, fin=fin))
        out.append(no_switch_expected(t, "unknown-token" + more, ws_request(t, ws.key(12), token=UNKNOWN_TOKEN),
                                      UNKNOWN_RULE, fin=fin))
    out += websocket_body_checks(t)
    return out

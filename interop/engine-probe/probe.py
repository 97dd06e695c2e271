#!/usr/bin/env python3
"""An independent probe of a Docker Engine API's hijacked endpoints (dockerd,
Podman's compatible service): raw HTTP/1.1 over the daemon's Unix socket, in
plain Python (no code shared with hijack-harness, no Docker SDK).

    probe.py --socket PATH --container NAME [--json FILE] [--only GLOB]
    probe.py --socket PATH --image IMAGE [--json FILE] [--only GLOB]

For the container's attach (raw with a TTY, stdcopy-multiplexed without) and
for a fresh exec of `cat` per check (multiplexed), it sends the bytes of each
black-box case category and prints what came back, a line per check.
With --image (for a daemon that closes a container's stdin when an attach
ends: Podman), every attach check gets a fresh container of IMAGE, removed
after it: `image/attach` (`cat`, no TTY) and `image-tty/attach` (a TTY,
`stty raw -echo; echo hh-ready; exec cat`, attached once the marker is in its
logs); the exec checks (`image/exec`) share one container of `cat`. Each line:

    ENDPOINT CHECK yes|NO|n/a  observation

`yes` is what a conformant server does (docs/src/invariant.md: every byte sent after the
request message comes back, once, in order, on stdout; nothing else; EOF after
the client's FIN), `NO` is not, `n/a` the check does not apply. The container
must echo its stdin (`cat`; with a TTY `stty raw -echo; exec cat`). Every wait
is bounded (0.8 s of silence, 6 s a wait); Unix socket only.
"""
import argparse
import fnmatch
import json
import socket
import sys
import time

SILENCE = 0.6
LONGEST = 6.0
UNKNOWN = "probe-unknown-token"


def payload(n, seed=0):
    """n bytes that never repeat a 16-byte window: numbered 8-byte cells, so an
    echo that starts late can be placed exactly."""
    cells = b"".join(b"%c%07d" % (65 + seed % 26, i) for i in range(n // 8 + 1))
    return cells[:n]


def preview(b, n=40):
    return repr(bytes(b[:n])) + ("..." if len(b) > n else "")


class Daemon:
    def __init__(self, path):
        self.path = path
        self.image = None

    def conn(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(LONGEST)
        s.connect(self.path)
        return s

    def call(self, method, path, body=None):
        """One API call (Connection: close): (status, parsed JSON or text)."""
        s = self.conn()
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        s.sendall(head.encode() + b"\r\n" + data)
        got = read_until_eof(s)
        s.close()
        status, headers, rest = split_head(got)
        if "chunked" in headers.get("transfer-encoding", ""):
            rest = unchunk(rest)
        try:
            return status, json.loads(rest)
        except ValueError:
            return status, rest.decode(errors="replace")

    def fresh(self, tty):
        """A started container of self.image echoing its stdin (with `tty`, in a
        raw TTY, once its `stty` ran): its ID."""
        cmd = ["sh", "-c", "stty raw -echo; echo hh-ready; exec cat"] if tty else ["cat"]
        status, made = self.call("POST", "/containers/create", {
            "Image": self.image, "Cmd": cmd, "Tty": tty, "OpenStdin": True, "StdinOnce": False,
            "AttachStdin": True, "AttachStdout": True, "AttachStderr": True,
            "NetworkDisabled": True, "HostConfig": {"NetworkMode": "none"},
            "Labels": {"hh-probe": "1"}})
        if status != 201:
            raise RuntimeError(f"container create: {status} {made}")
        cid = made["Id"]
        status, answer = self.call("POST", f"/containers/{cid}/start")
        if status not in (204, 304):
            self.remove(cid)
            raise RuntimeError(f"container start: {status} {answer}")
        end = time.monotonic() + LONGEST
        while tty:
            _, logs = self.call("GET", f"/containers/{cid}/logs?stdout=1")
            if "hh-ready" in str(logs):
                break
            if time.monotonic() > end:
                self.remove(cid)
                raise RuntimeError("the TTY container's `stty` did not run")
            time.sleep(0.01)
        return cid

    def remove(self, cid):
        self.call("DELETE", f"/containers/{cid}?force=1")

    def new_exec(self, container):
        status, answer = self.call("POST", f"/containers/{container}/exec", {
            "AttachStdin": True, "AttachStdout": True, "AttachStderr": True,
            "Tty": False, "Cmd": ["cat"]})
        if status != 201:
            raise RuntimeError(f"exec create: {status} {answer}")
        return answer["Id"]


def read_until_eof(s, limit=LONGEST):
    return read_for(s, limit)[0]


def read_for(s, limit):
    """What comes within `limit` seconds (or until a read waits out the
    socket's timeout), and whether the peer closed (EOF)."""
    out, end = b"", time.monotonic() + limit
    while time.monotonic() < end:
        try:
            b = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            return out, True
        out += b
    return out, False


def unchunk(raw):
    out = b""
    while b"\r\n" in raw:
        line, raw = raw.split(b"\r\n", 1)
        try:
            n = int(line.split(b";")[0], 16)
        except ValueError:
            break
        if n == 0:
            break
        out, raw = out + raw[:n], raw[n + 2:]
    return out


def split_head(got):
    """(status, {lower name: value}, bytes after the final head); skips 1xx except 101."""
    while True:
        end = got.find(b"\r\n\r\n")
        if end < 0:
            return None, {}, got
        lines = got[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = got[end + 4:]
        if status is not None and 100 <= status < 200 and status != 101:
            got = rest
            continue
        headers[":line"] = lines[0]
        return status, headers, rest


def demux(raw):
    """stdcopy frames -> (stdout, stderr, other streams, bytes left in a partial frame or garbage)."""
    out = {0: b"", 1: b"", 2: b""}
    bad = None
    i = 0
    while i + 8 <= len(raw):
        stream, size = raw[i], int.from_bytes(raw[i + 4:i + 8], "big")
        if stream not in out:
            bad = f"byte {i}: a header naming stream {stream}"
            break
        out[stream] += raw[i + 8:i + 8 + size]
        i += 8 + size
    return out[1], out[2], out[0], bad


class Endpoint:
    def __init__(self, daemon, container, kind, tty, label=None):
        self.daemon, self.container, self.kind, self.tty = daemon, container, kind, tty
        self.label = label

    @property
    def name(self):
        return self.label or f"{self.container}/{self.kind}"

    @property
    def multiplexed(self):
        return self.kind == "exec" or not self.tty

    def request(self, token="tcp", version="HTTP/1.1", upgrade=True, extra=(), body=None,
                connection="Upgrade"):
        """(head bytes, body bytes) of the hijacking request."""
        if self.kind == "exec":
            path = f"/exec/{self.daemon.new_exec(self.container)}/start"
            body = json.dumps({"Detach": False, "Tty": False}).encode()
            extra = list(extra) + ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        else:
            path = f"/containers/{self.container}/attach?stream=1&stdin=1&stdout=1&stderr=1"
        lines = [f"POST {path} {version}", "Host: localhost"]
        if upgrade:
            lines += [f"Connection: {connection}", f"Upgrade: {token}"]
        lines += list(extra)
        return ("\r\n".join(lines) + "\r\n\r\n").encode(), body or b""

    def stdout_of(self, after):
        if self.multiplexed:
            out, err, other, bad = demux(after)
            return out, err + other, bad
        return after, b"", None


def exchange(ep, first, later=b"", want=0, fin=False, pause=0.0, first_parts=None):
    """Sends `first` (or `first_parts` with a pause between), then `later` once the
    head came back; reads until `want` stdout bytes or silence; with `fin`
    shuts down the write half right after `later` and reads to EOF."""
    s = ep.daemon.conn()
    got, t0 = b"", time.monotonic()
    if first_parts:
        for i, part in enumerate(first_parts):
            if i:
                time.sleep(pause)
            s.sendall(part)
    else:
        s.sendall(first)
    status, headers, after = None, {}, b""
    s.settimeout(SILENCE)
    eof = False
    deadline = t0 + LONGEST
    sent_later = False
    while time.monotonic() < deadline:
        status, headers, after = split_head(got)
        if status is not None and not sent_later:
            sent_later = True
            if later:
                s.sendall(later)
            if fin:
                s.shutdown(socket.SHUT_WR)
        if status is not None and not fin:
            out, _, _ = ep.stdout_of(after)
            if len(out) >= want:
                # a little more, to see anything extra
                s.settimeout(0.2)
        try:
            b = s.recv(65536)
        except socket.timeout:
            if status is not None and not fin:
                break
            if status is None and time.monotonic() - t0 > LONGEST:
                break
            if fin and time.monotonic() - t0 > 3.0:
                break
            continue
        except ConnectionResetError:
            break
        if not b:
            eof = True
            break
        got += b
    s.close()
    status, headers, after = split_head(got)
    out, other, bad = ep.stdout_of(after)
    return {"status": status, "line": headers.get(":line"), "headers": headers, "after": after,
            "stdout": out, "other": other, "bad": bad, "eof": eof}


def echo_obs(r, sent, extra_note=""):
    if r["status"] not in (101, 200):
        return False, f"answered {r['line']!r}: no hand-over"
    out = r["stdout"]
    parts = [f"{r['line']}", f"{len(out)} of {len(sent)} bytes came back on stdout"]
    ok = out == sent
    if not ok:
        # where the echo starts in what was sent
        k = sent.find(out[:16]) if out else -1
        if out and k > 0 and sent[k:k + len(out)] == out:
            parts.append(f"the first {k} bytes are missing, the rest came back in order")
        elif out and out == sent[:len(out)]:
            parts.append(f"a prefix; bytes {len(out)}..{len(sent)} are missing")
        elif out:
            parts.append(f"differs: {preview(out)}")
    if r["other"]:
        ok = False
        parts.append(f"{len(r['other'])} bytes on stderr/stdin streams: {preview(r['other'])}")
    if r["bad"]:
        ok = False
        parts.append(f"not stdcopy at {r['bad']}")
    if extra_note:
        parts.append(extra_note)
    return ok, "; ".join(parts)


def check_early(ep, n):
    head, body = ep.request()
    sent = payload(n, n)
    r = exchange(ep, head + body + sent, want=n)
    return echo_obs(r, sent)


def check_delayed(ep):
    head, body = ep.request()
    sent = payload(300, 3)
    r = exchange(ep, head + body, later=sent, want=300)
    return echo_obs(r, sent)


def check_head_split(ep):
    head, body = ep.request()
    sent = payload(300, 5)
    whole = head + body
    if body:
        parts = [whole[:len(head) - 2], whole[len(head) - 2:] + sent]
    else:
        parts = [head[:-2], head[-2:] + sent]
    r = exchange(ep, None, want=300, first_parts=parts, pause=0.1)
    return echo_obs(r, sent, "the head's CRLFCRLF split across two sends 100 ms apart")


def check_pipelined(ep):
    head, body = ep.request()
    sent = b"GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n"
    r = exchange(ep, head + body + sent, want=len(sent))
    return echo_obs(r, sent)


def check_body(ep, chunked):
    if ep.kind == "exec":
        return None, "the exec start's body is its JSON configuration"
    content = b"hello body"
    framing = ["Transfer-Encoding: chunked"] if chunked else [f"Content-Length: {len(content)}"]
    wire = (b"a\r\n" + content + b"\r\n0\r\n\r\n") if chunked else content
    head, _ = ep.request(extra=framing)
    sent = payload(300, 7)
    r = exchange(ep, head + wire + sent, want=300)
    ok, obs = echo_obs(r, sent)
    if content in r["stdout"]:
        obs += "; the request body came back in the echo (the daemon never reads it)"
    return ok, obs


def check_unknown_token(ep):
    head, body = ep.request(token=UNKNOWN)
    sent = b"GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n"
    r = exchange(ep, head + body + sent, want=len(sent))
    up = r["headers"].get("upgrade")
    switched_to_other = r["status"] == 101 and (up or "").lower() != UNKNOWN
    obs = f"answered {r['line']!r} (Upgrade: {up}) to `Upgrade: {UNKNOWN}`"
    if r["status"] in (101, 200):
        obs += f"; then {len(r['stdout'])} bytes of the next request echoed raw"
    return (not switched_to_other and r["status"] != 101), obs


def check_http10(ep):
    head, body = ep.request(version="HTTP/1.0")
    sent = payload(300, 9)
    r = exchange(ep, head + body + sent, want=300)
    obs = f"answered {r['line']!r} to an HTTP/1.0 request with `Upgrade: tcp`"
    if r["status"] in (101, 200):
        obs += f"; {len(r['stdout'])} bytes echoed"
    return r["status"] != 101, obs + ' (RFC 9110 §7.8: "A server that receives an Upgrade header field in an HTTP/1.0 request MUST ignore that Upgrade field")'


def check_connection_list(ep):
    head, body = ep.request(connection="keep-alive, Upgrade")
    sent = payload(300, 23)
    r = exchange(ep, head + body + sent, want=300)
    ok, obs = echo_obs(r, sent)
    return ok and r["status"] == 101, (
        f"`Connection: keep-alive, Upgrade` (a list, RFC 9110 §7.6.1): {obs}; Upgrade: {r['headers'].get('upgrade')}")


def check_detach_in_payload(ep):
    """Docker's default detach keys, ctrl-p ctrl-q (16, 17), inside one write
    after the 101: a byte stream must pass them on."""
    head, body = ep.request()
    sent = payload(100, 25) + b"\x10\x11" + payload(100, 26)
    r = exchange(ep, head + body, later=sent, want=len(sent))
    ok, obs = echo_obs(r, sent, "ctrl-p ctrl-q (16, 17) in the middle of one write")
    return ok, obs


def check_detach_typed(ep):
    """The same keys typed: `abc`, 16, 17, `def` in four writes 0.2 s apart. Not
    a conformance check (detaching is the daemon's feature): what happens."""
    head, body = ep.request()
    s = ep.daemon.conn()
    s.sendall(head + body)
    s.settimeout(SILENCE)
    got = b""
    while b"\r\n\r\n" not in got:
        b = s.recv(65536)
        if not b:
            break
        got += b
    for part in (b"abc", b"\x10", b"\x11", b"def"):
        time.sleep(0.2)
        try:
            s.sendall(part)
        except OSError:
            break
    more, eof = read_for(s, 2.0)
    got += more
    s.close()
    status, headers, after = split_head(got)
    out, other, bad = ep.stdout_of(after)
    return None, (f"`abc`, 16, 17, `def` in four writes: stdout {preview(out)}"
                  + (f", other streams {preview(other)}" if other else "")
                  + ("; then the daemon closed" if eof else "; the connection stayed open"))


def check_explicit(ep):
    head, body = ep.request(upgrade=False)
    sent = payload(300, 11)
    r = exchange(ep, head + body + sent, want=300)
    ok, obs = echo_obs(r, sent)
    return ok and r["status"] == 200, f"no Upgrade: {obs}; Content-Type: {r['headers'].get('content-type')}"


def check_halfclose(ep):
    head, body = ep.request()
    sent = payload(300, 13)
    t0 = time.monotonic()
    r = exchange(ep, head + body, later=sent, fin=True)
    ok, obs = echo_obs(r, sent)
    took = time.monotonic() - t0
    if r["eof"]:
        obs += f"; EOF from the daemon {took:.2f} s after the request"
    else:
        obs += f"; no EOF within {took:.1f} s after the client's FIN"
    return ok and r["eof"], obs


def check_large(ep, n=1 << 20):
    head, body = ep.request()
    sent = payload(n, 17)
    s = ep.daemon.conn()
    s.sendall(head + body)
    got = b""
    s.settimeout(SILENCE)
    while b"\r\n\r\n" not in got:
        b = s.recv(65536)
        if not b:
            break
        got += b
    # send and read interleaved
    s.setblocking(False)
    i, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < LONGEST:
        if i < len(sent):
            try:
                i += s.send(sent[i:i + 65536])
            except BlockingIOError:
                pass
        try:
            b = s.recv(65536)
            if not b:
                break
            got += b
            t_last = time.monotonic()
        except BlockingIOError:
            time.sleep(0.001)
        status, headers, after = split_head(got)
        out, _, _ = ep.stdout_of(after)
        if len(out) >= len(sent):
            break
    s.close()
    status, headers, after = split_head(got)
    out, other, bad = ep.stdout_of(after)
    r = {"status": status, "line": headers.get(":line"), "stdout": out, "other": other, "bad": bad}
    return echo_obs(r, sent, f"{n} bytes after the 101, sent while reading")


def check_expect_continue(ep):
    if ep.kind == "exec":
        return None, "the exec start's body is its JSON configuration"
    content = payload(20, 19)
    head, _ = ep.request(extra=["Expect: 100-continue", f"Content-Length: {len(content)}"])
    s = ep.daemon.conn()
    s.sendall(head)
    s.settimeout(1.0)
    try:
        first = s.recv(65536)
    except socket.timeout:
        first = b""
    s.close()
    line = first.split(b"\r\n", 1)[0].decode("latin-1") if first else "(nothing within 1 s)"
    return (line.startswith("HTTP/1.1 100")), (
        f"head alone with `Expect: 100-continue`: first answer {line!r}"
        + ("" if line.startswith("HTTP/1.1 100") else "; no 100 (Continue) before it (RFC 9110 §7.8 MUST)"))


def check_large_early(ep):
    head, body = ep.request()
    early, late = payload(70000, 21), payload(70000, 22)
    r = exchange(ep, head + body + early, later=late, want=140000)
    return echo_obs(r, early + late, "70000 bytes with the request, 70000 after the answer")


CHECKS = [
    ("early-data.same-segment.1", lambda ep: check_early(ep, 1)),
    ("early-data.same-segment.300", lambda ep: check_early(ep, 300)),
    ("early-data.same-segment.4500", lambda ep: check_early(ep, 4500)),
    ("early-data.same-segment.70000", lambda ep: check_early(ep, 70000)),
    ("early-data.delayed", check_delayed),
    ("head-split.crlfcrlf", check_head_split),
    ("pipelined-http-after-upgrade", check_pipelined),
    ("body.content-length", lambda ep: check_body(ep, False)),
    ("body.chunked", lambda ep: check_body(ep, True)),
    ("unknown-token", check_unknown_token),
    ("http10-upgrade", check_http10),
    ("explicit-no-upgrade", check_explicit),
    ("connection-list", check_connection_list),
    ("halfclose.fin-after-data", check_halfclose),
    ("large-1MiB", check_large),
    ("large-early+late", check_large_early),
    ("expect-continue", check_expect_continue),
    # last: on a shared TTY container a detach leaves bytes in the terminal for the next attach
    ("detach-keys.in-payload", check_detach_in_payload),
    ("detach-keys.typed", check_detach_typed),
]


def attach_refusal(daemon, container):
    """An upgrading attach to `container` with a GET /_ping pipelined after it:
    the answer, its headers, and what became of the connection and the ping."""
    s = daemon.conn()
    s.settimeout(2.0)
    s.sendall(f"POST /containers/{container}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
              "Host: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode()
              + b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got, eof = read_for(s, 2.0)
    s.close()
    status, headers, rest = split_head(got)
    length = headers.get("content-length")
    return (f"answered {headers.get(':line')!r}, Content-Type {headers.get('content-type')}, "
            f"Content-Length {length}, body {preview(rest, 100)}; the pipelined GET /_ping after it "
            + ("was answered as HTTP" if b"HTTP/1.1 200" in rest else "got no HTTP answer")
            + ("; then the daemon closed" if eof else "; the connection stayed open (2 s)"))


def refusals(daemon):
    """What the daemon answers for a container it does not have, for one created
    and never started, and for one that ran and exited (made here, removed after):
    the attach, and the exec create."""
    rows = [("refusal.missing-container", None, attach_refusal(daemon, "probe-no-such-container"))]
    for state, name in (("created", "probe-created"), ("exited", "probe-exited")):
        status, made = daemon.call("POST", f"/containers/create?name={name}",
                                   {"Image": daemon.image, "Cmd": ["cat"], "OpenStdin": True,
                                    "HostConfig": {"NetworkMode": "none"}})
        if status != 201:
            rows.append((f"refusal.{state}-container", None, f"could not create a container: {status} {made}"))
            continue
        if state == "exited":
            daemon.call("POST", f"/containers/{name}/start")
            daemon.call("POST", f"/containers/{name}/kill")
            daemon.call("POST", f"/containers/{name}/wait")
        st, answer = daemon.call("POST", f"/containers/{name}/exec", {
            "AttachStdin": True, "AttachStdout": True, "Cmd": ["cat"]})
        rows.append((f"refusal.exec-in-{state}-container", None, f"exec create answered {st}: {answer}"))
        rows.append((f"refusal.attach-to-{state}-container", None, attach_refusal(daemon, name)))
        daemon.remove(name)
    return rows


def run_check(ep, check, fresh):
    """(conforms, observation) of one check; with `fresh`, on a container of
    its own (ep.container is then set for the check and removed after)."""
    cid = None
    try:
        if fresh:
            cid = ep.container = ep.daemon.fresh(ep.tty)
        return check(ep)
    except Exception as e:  # noqa: BLE001 - a probe reports, it does not crash
        return False, f"the check failed: {type(e).__name__}: {e}"
    finally:
        if cid:
            ep.daemon.remove(cid)


def endpoints(daemon, args):
    """(endpoint, fresh per check) for every target asked for; the containers to remove at the end."""
    eps, made = [], []
    for container in args.container or []:
        st, info = daemon.call("GET", f"/containers/{container}/json")
        if st != 200:
            raise RuntimeError(f"{container} inspect: {st} {info}")
        daemon.image = info.get("Image")
        tty = bool(info["Config"]["Tty"])
        eps += [(Endpoint(daemon, container, kind, tty), False) for kind in ("attach", "exec")]
    if args.image:
        daemon.image = args.image
        shared = daemon.fresh(False)
        made.append(shared)
        eps += [(Endpoint(daemon, None, "attach", False, "image/attach"), True),
                (Endpoint(daemon, None, "attach", True, "image-tty/attach"), True),
                (Endpoint(daemon, shared, "exec", False, "image/exec"), False)]
    return eps, made


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--container", action="append")
    ap.add_argument("--image")
    ap.add_argument("--json")
    ap.add_argument("--only", default="*")
    ap.add_argument("--no-refusals", action="store_true")
    args = ap.parse_args()
    daemon = Daemon(args.socket)
    st, version = daemon.call("GET", "/version")
    print(f"# daemon: {version.get('Version') if isinstance(version, dict) else version} "
          f"API {version.get('ApiVersion') if isinstance(version, dict) else '?'}")
    if not args.container and not args.image:
        ap.error("--container or --image is needed")
    results = []
    try:
        eps, made = endpoints(daemon, args)
    except RuntimeError as e:
        print(e)
        return 2
    try:
        for ep, fresh in eps:
            for name, check in CHECKS:
                if not fnmatch.fnmatch(name, args.only):
                    continue
                ok, obs = run_check(ep, check, fresh)
                word = "n/a" if ok is None else ("yes" if ok else "NO")
                print(f"{ep.name:<16} {name:<32} {word:<3}  {obs}", flush=True)
                results.append({"target": ep.name, "check": name, "conforms": ok, "observation": obs})
    finally:
        for cid in made:
            daemon.remove(cid)
    if not args.no_refusals:
        for name, ok, obs in refusals(daemon):
            print(f"{'daemon':<16} {name:<32} {'n/a':<3}  {obs}", flush=True)
            results.append({"target": "daemon", "check": name, "conforms": ok, "observation": obs})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"version": version, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

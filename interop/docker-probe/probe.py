#!/usr/bin/env python3
"""An independent probe for Docker client verdicts: a tiny Docker daemon stub
in plain Python (sockets and threads, no code shared with hijack-harness) that
runs one client command against one scenario and prints what the client did.

    probe.py SCENARIO [--unix] [--tty-stdin] -- CLIENT COMMAND WITH {host}

--tty-stdin gives the client a pseudo-terminal in raw mode as its stdin (as a
user attaching from a terminal has; the Docker CLI refuses a TTY container
otherwise), written through its other end and closed (a hang-up) where a pipe
would be closed.

Scenarios (each the situation of a harness case; the probe reports facts, and a
one-word verdict derived from them, so a reader can check the harness's):

  early-tty         raw TTY output (300 bytes) in the same send() as the 101
  early-mux         multiplexed stdout+stderr frames in the same send() as the 101
  later-tty         the same raw output 100 ms after the 101 (the control)
  header-like-tty   raw TTY output whose first bytes are 01 00 00 00 00 00 00 05
  halfclose-mux     output after the client's FIN (stdin EOF) must be printed
  refuse-close-mux  404 + JSON body + "Connection: close" + a frame after it
  refuse-close-tty  the same for a TTY container
  refuse-mux        404 + JSON body (keep-alive) + a frame after it
  refuse-tty        the same for a TTY container (raw bytes after the body)

Loopback only: the stub listens on 127.0.0.1 or a Unix socket in /tmp, every
wait is bounded, and the client is killed (its own process group) at the end.
"""
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty

STDIN = b"probe-stdin-0123456789\n" * 4
MARK = b"PROBE: output after a refusal\n"
SCENARIOS = ("early-tty", "early-mux", "later-tty", "header-like-tty", "halfclose-mux",
             "refuse-close-mux", "refuse-close-tty", "refuse-mux", "refuse-tty")


def frame(stream, data):
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def printable(n, seed):
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
    return bytes(alphabet[(i * 7 + seed) % len(alphabet)] for i in range(n))


class Stub:
    def __init__(self, scenario):
        self.scenario = scenario
        self.tty = scenario.endswith("-tty")
        self.exited = threading.Event()
        self.stdin = bytearray()
        self.fin = threading.Event()
        self.after_refusal = bytearray()
        self.stdout_expected = b""
        self.stderr_expected = b""
        self.stdin_attached = True

    def answer(self, sock, status, obj, extra=b""):
        body = (json.dumps(obj) + "\n").encode()
        reason = {200: b"OK", 201: b"Created", 404: b"Not Found"}[status]
        sock.sendall(b"HTTP/1.1 %d %s\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
                     % (status, reason, extra, len(body), body))

    def read_request(self, sock, buf):
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            if not data:
                return None, None, buf
            buf += data
        end = buf.index(b"\r\n\r\n") + 4
        head, buf = buf[:end], buf[end:]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(buf) < length:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
        return head, buf[:length], buf[length:]

    def serve(self, sock):
        sock.settimeout(10)
        buf = b""
        try:
            while True:
                head, body, buf = self.read_request(sock, buf)
                if head is None:
                    return
                method, target = head.split(b" ")[:2]
                path = target.split(b"?")[0].decode()
                parts = [p for p in path.split("/") if p]
                if parts and parts[0].startswith("v1."):
                    parts = parts[1:]
                if parts == ["_ping"]:
                    sock.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\n" + (b"OK" if method == b"GET" else b""))
                elif parts == ["version"]:
                    self.answer(sock, 200, {"Version": "20.10.24", "ApiVersion": "1.41"})
                elif len(parts) == 3 and parts[2] == "json" and parts[0] == "containers":
                    self.answer(sock, 200, {"Id": "c1", "State": {"Running": True, "Paused": False, "Restarting": False},
                                            "Config": {"Tty": self.tty, "OpenStdin": True}})
                elif len(parts) == 3 and parts[2] == "wait":
                    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                    self.exited.wait(10)
                    body = b'{"StatusCode":0}\n'
                    sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
                elif parts == ["containers", "create"]:
                    self.answer(sock, 201, {"Id": "c1", "Warnings": []})
                elif len(parts) == 3 and parts[2] == "exec":
                    self.answer(sock, 201, {"Id": "e1"})
                elif len(parts) == 3 and parts[0] == "exec" and parts[2] == "json":
                    self.answer(sock, 200, {"Running": False, "ExitCode": 0})
                elif (len(parts) == 3 and parts[2] == "attach") or (parts[:1] == ["exec"] and parts[-1:] == ["start"]):
                    self.stdin_attached = parts[0] == "exec" or b"stdin=1" in target or b"stdin=true" in target
                    return self.hijack(sock, buf)
                else:
                    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return
        finally:
            sock.close()

    def refuse(self, sock, rest):
        close = "close" in self.scenario
        body = b'{"message":"No such container: c1"}\n'
        head = b"HTTP/1.1 404 Not Found\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
        if close:
            head += b"Connection: close\r\n"
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        sock.sendall(head)
        time.sleep(0.1)  # as the harness does: the body after a pause
        sock.sendall(body + (MARK if self.tty else frame(1, MARK)))
        if close:
            sock.shutdown(socket.SHUT_WR)
        self.after_refusal += rest
        sock.settimeout(1.5)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                self.after_refusal += data
        except OSError:
            pass

    def hijack(self, sock, rest):
        if self.scenario.startswith("refuse"):
            return self.refuse(sock, rest)
        kind = b"raw-stream" if self.tty else b"multiplexed-stream"
        head = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.%s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" % kind
        out, late = printable(300, 1), b""
        if self.scenario == "header-like-tty":
            out = b"\x01\x00\x00\x00\x00\x00\x00\x05hello\r\n"
            late = b"\x02\x00tty bytes\r\n"
        if self.tty:
            self.stdout_expected = out + late
            wire = out
        else:
            err = printable(100, 2)
            self.stdout_expected, self.stderr_expected = out, err
            wire = frame(1, out) + frame(2, err)
        if self.scenario.startswith("early"):
            sock.sendall(head + wire)
        else:
            sock.sendall(head)
            time.sleep(0.1)
            sock.sendall(wire)
        if late:
            time.sleep(0.1)
            sock.sendall(late)
        self.stdin += rest
        sock.settimeout(5)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    self.fin.set()
                    break
                self.stdin += data
        except OSError:
            pass
        if self.scenario == "halfclose-mux" and self.fin.is_set():
            after = printable(200, 3)
            self.stdout_expected += after
            time.sleep(0.05)
            sock.sendall(frame(1, after))
        sock.shutdown(socket.SHUT_WR)
        self.exited.set()


def main():
    args = sys.argv[1:]
    if "--" not in args or not args or args[0] not in SCENARIOS:
        print(__doc__)
        return 2
    scenario, unix = args[0], "--unix" in args[: args.index("--")]
    terminal = "--tty-stdin" in args[: args.index("--")]
    command = " ".join(args[args.index("--") + 1:])
    stub = Stub(scenario)
    if unix:
        path = os.path.join(tempfile.mkdtemp(prefix="docker-probe-"), "docker.sock")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        host = "unix://" + path
    else:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        host = "tcp://127.0.0.1:%d" % listener.getsockname()[1]
    listener.listen(16)
    listener.settimeout(0.2)
    if terminal:
        master, slave = pty.openpty()
        tty.setraw(slave)
        stdin = slave
    else:
        stdin = subprocess.PIPE
    client = subprocess.Popen(command.replace("{host}", host), shell=True, stdin=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    if terminal:
        os.close(slave)

    def write_stdin():
        if terminal:
            os.write(master, STDIN)
        else:
            client.stdin.write(STDIN)
            client.stdin.flush()

    def close_stdin():
        if terminal:
            os.close(master)
        else:
            client.stdin.close()

    out, err = bytearray(), bytearray()
    readers = [threading.Thread(target=lambda f=f, b=b: b.extend(f.read()), daemon=True)
               for f, b in ((client.stdout, out), (client.stderr, err))]
    for r in readers:
        r.start()
    write_stdin()
    deadline = time.monotonic() + 15
    stdin_closed_at = None
    while time.monotonic() < deadline and client.poll() is None:
        try:
            conn, _ = listener.accept()
            threading.Thread(target=stub.serve, args=(conn,), daemon=True).start()
        except socket.timeout:
            pass
        if stdin_closed_at is None and (len(stub.stdin) >= len(STDIN) or stub.fin.is_set()):
            close_stdin()
            stdin_closed_at = time.monotonic()
        if stub.after_refusal or (scenario.startswith("refuse") and stub.exited.is_set()):
            pass
    if client.poll() is None:
        os.killpg(client.pid, signal.SIGKILL)
    client.wait()
    for r in readers:
        r.join(2)
    listener.close()
    if unix:
        os.unlink(path)
        os.rmdir(os.path.dirname(path))

    facts = []
    verdict = "pass"
    if scenario.startswith("refuse"):
        raw = bytes(stub.after_refusal)
        printed_body = b"No such container" in out
        printed_mark = MARK in out or MARK in err
        facts.append("after the 404 the client sent %d bytes: %r" % (len(raw), raw[:60]))
        facts.append("stdout %r" % bytes(out[:80]))
        facts.append("stderr %r" % bytes(err[:80]))
        if (raw and not raw[:1].isupper()) or printed_body or printed_mark:
            verdict = "fail"
    else:
        facts.append("stdout: printed %d of %d expected bytes, equal=%s"
                     % (len(out), len(stub.stdout_expected), bytes(out) == stub.stdout_expected))
        if not stub.tty:
            facts.append("stderr: printed %d of %d expected bytes, equal=%s"
                         % (len(err), len(stub.stderr_expected), bytes(err) == stub.stderr_expected))
        facts.append("stdin: stub read %d of %d bytes, equal=%s; FIN=%s%s"
                     % (len(stub.stdin), len(STDIN), bytes(stub.stdin) == STDIN, stub.fin.is_set(),
                        "" if stub.stdin_attached else " (stdin not attached: not judged)"))
        if bytes(out) != stub.stdout_expected or (not stub.tty and bytes(err) != stub.stderr_expected):
            verdict = "fail"
            facts.append("stdout starts %r" % bytes(out[:40]))
        if err and stub.tty:
            facts.append("stderr %r" % bytes(err[:60]))
        if stub.stdin_attached and (bytes(stub.stdin) != STDIN or not stub.fin.is_set()):
            verdict = "fail"
    print("PROBE %s %s: %s" % (scenario, verdict, "; ".join(facts)))
    return 0


sys.exit(main())

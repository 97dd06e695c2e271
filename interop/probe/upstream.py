"""A correct upstream for probing a proxy (standard library only): `echo` (the
default), `websocket` (RFC 6455: 101 with the accept value, then every data
message echoed in an unmasked frame, a Close answered with a Close) or `docker`
(`Upgrade: tcp`, `101 UPGRADED` with Docker's raw-stream type, then a raw echo).

It reads the request head, consumes the body by its framing (Content-Length or
chunked), sends `100 Continue` first when asked (RFC 9110 §7.8), answers
`Upgrade: echo` with 101 (not in an HTTP/1.0 request: RFC 9110 §7.8) and then echoes every byte, read-ahead included; at the
client's EOF it half-closes, and it closes when the other side closes too. Any
other request gets 426. Each connection leaves a record: what the proxy forwarded.
"""

import base64
import socket
import struct
import threading
import time

import ws

TOKENS = {"echo": "echo", "upgrade": "echo", "websocket": "websocket", "docker": "tcp"}


class Upstream:
    def __init__(self, address, protocol="echo"):
        self.token = TOKENS.get(protocol, "echo")
        host, port = address.rsplit(":", 1)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, int(port)))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.records = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join(2)
        self.listener.close()

    def last(self):
        """The record of the newest connection, after it settled a little."""
        time.sleep(0.05)
        return self.records[-1] if self.records else None

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            record = {"head": "", "body": 0, "echoed": 0, "client_fin": False, "note": ""}
            self.records.append(record)
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _serve(self, conn, record):
        conn.settimeout(10)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = _Reader(conn)
        try:
            head = reader.until(b"\r\n\r\n")
            if head is None:
                record["note"] = "closed before a whole head"
                return
            text = head.decode("latin-1")
            record["head"] = text.split("\r\n", 1)[0]
            headers = {}
            for line in text.split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers.setdefault(k.strip().lower(), []).append(v.strip().lower())

            def tokens(name):
                return {t.strip() for v in headers.get(name, []) for t in v.split(",")}

            record["forwarded"] = "; ".join(
                f"{name}: {', '.join(headers.get(name, ['(none)']))}"
                for name in ("connection", "upgrade", "content-length", "transfer-encoding", "expect"))
            if text.split("\r\n", 1)[0].endswith("HTTP/1.0"):
                # RFC 9110 §7.8: "A server that receives an Upgrade header field in an
                # HTTP/1.0 request MUST ignore that Upgrade field": served as plain HTTP,
                # i.e. refused.
                conn.sendall(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                record["note"] = "an HTTP/1.0 request: Upgrade ignored, 426"
                return
            if self.token == "tcp" and not tokens("upgrade") and record["head"].startswith("POST "):
                # Docker's older attach: 200 with the raw-stream type, then the raw echo
                record["body"] = _consume_body(reader, headers)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n")
                record["note"] = "explicit hijack: 200 raw-stream"
                _raw_echo(conn, reader, record)
                return
            if "upgrade" not in tokens("connection") or self.token not in tokens("upgrade"):
                conn.sendall(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                record["note"] = f"not an {self.token} upgrade: 426"
                return
            if "100-continue" in tokens("expect"):
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            record["body"] = _consume_body(reader, headers)
            if self.token == "websocket":
                key = next(iter(headers.get("sec-websocket-key", [""])))
                # the key was lower-cased with the other values: take it from the raw head
                key = next((line.split(":", 1)[1].strip() for line in text.split("\r\n")
                            if line.lower().startswith("sec-websocket-key:")), key)
                if not _key_ok(key):  # RFC 6455 §4.2.1: a 16-byte nonce, base64
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    record["note"] = "Sec-WebSocket-Key is not 16 bytes: 400"
                    return
                conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                              f"Sec-WebSocket-Accept: {ws.accept(key)}\r\n\r\n").encode())
                _websocket_echo(conn, reader, record)
                return
            if self.token == "tcp":
                conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                             b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            _raw_echo(conn, reader, record)
        except OSError as e:
            record["note"] = f"{type(e).__name__}: {e}"
        finally:
            conn.close()


def _key_ok(key):
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        return False


def _raw_echo(conn, reader, record):
    """Echoes every byte, read-ahead first; half-closes at the client's EOF."""
    while True:
        data = reader.take() or conn.recv(65536)
        if not data:
            record["client_fin"] = True
            break
        conn.sendall(data)
        record["echoed"] += len(data)
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(65536):
        pass


def _server_frame(payload, opcode):
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def _websocket_echo(conn, reader, record):
    """Echoes every whole data message of the client's frames until a Close."""
    buf = reader.take()
    while True:
        messages, close, rest, _ = ws.decode(buf)
        for m in messages:
            conn.sendall(_server_frame(m, ws.OP_BINARY))
            record["echoed"] += len(m)
        if close is not None:
            conn.sendall(_server_frame(close[:2], ws.OP_CLOSE))
            record["client_fin"] = True
            conn.shutdown(socket.SHUT_WR)
            return
        buf = rest
        data = conn.recv(65536)
        if not data:
            record["client_fin"] = True
            conn.shutdown(socket.SHUT_WR)
            return
        buf += data


class _Reader:
    def __init__(self, conn):
        self.conn, self.buf = conn, b""

    def fill(self):
        data = self.conn.recv(65536)
        if not data:
            raise ConnectionError("EOF inside the request")
        self.buf += data

    def until(self, marker):
        while marker not in self.buf:
            if len(self.buf) > 1 << 20:
                return None
            try:
                self.fill()
            except ConnectionError:
                return None
        end = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def take(self):
        out, self.buf = self.buf, b""
        return out


def _consume_body(reader, headers):
    if "chunked" in ",".join(headers.get("transfer-encoding", [])):
        total = 0
        while True:
            size = int(reader.until(b"\r\n").split(b";")[0].strip(), 16)
            if size == 0:
                while reader.until(b"\r\n") != b"\r\n":  # trailers, then the empty line
                    pass
                return total
            total += len(reader.exactly(size))
            reader.exactly(2)
    length = headers.get("content-length")
    if length:
        n = int(length[0])
        reader.exactly(n)
        return n
    return 0

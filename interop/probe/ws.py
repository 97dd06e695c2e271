"""RFC 6455 for the probe, written from the RFC (no code shared with the harness):
the handshake's key and accept value, masked client frames, server frames decoded."""

import base64
import hashlib
import random
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_CONT = 1, 2, 8, 9, 10, 0


def key(seed):
    """§4.1: "a randomly selected 16-byte value that has been base64-encoded"."""
    return base64.b64encode(random.Random(seed).randbytes(16)).decode()


def accept(key_text):
    """§4.2.2: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1(key_text.encode() + GUID).digest()).decode()


def frame(payload, opcode=OP_BINARY, fin=True, seed=0):
    """One masked client frame (§5.2, §5.3)."""
    mask = random.Random(seed).randbytes(4)
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += struct.pack("!H", n)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes(head) + mask + masked


def close_frame(code=1000, seed=0):
    return frame(struct.pack("!H", code), OP_CLOSE, seed=seed)


def decode(data):
    """Server frames in data: (messages, close payload or None, leftover bytes, problems).

    A message is the payload of a data frame and its continuations."""
    messages, problems = [], []
    close = None
    partial = None
    i = 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        fin, opcode = b0 & 0x80, b0 & 0x0F
        masked, n = b1 & 0x80, b1 & 0x7F
        j = i + 2
        if n == 126:
            if j + 2 > len(data):
                break
            (n,) = struct.unpack("!H", data[j : j + 2])
            j += 2
        elif n == 127:
            if j + 8 > len(data):
                break
            (n,) = struct.unpack("!Q", data[j : j + 8])
            j += 8
        mask = b""
        if masked:
            problems.append("a server frame is masked (RFC 6455 §5.1: it MUST NOT be)")
            mask = data[j : j + 4]
            j += 4
        if j + n > len(data):
            break
        payload = data[j : j + n]
        if mask:
            payload = bytes(b ^ mask[k % 4] for k, b in enumerate(payload))
        i = j + n
        if opcode in (OP_TEXT, OP_BINARY):
            partial = payload
        elif opcode == OP_CONT and partial is not None:
            partial += payload
        elif opcode == OP_CLOSE:
            close = payload
            continue
        else:
            continue
        if fin and partial is not None:
            messages.append(partial)
            partial = None
    return messages, close, data[i:], problems

"""docker-py interactive attach/exec: stdin to the container, its output to stdout/stderr."""
import os, socket, sys, threading
import docker
from docker.utils.socket import frames_iter, STDERR

host, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "attach")
api = docker.APIClient(base_url=host, version="1.41", timeout=10)
tty = api.inspect_container("c1")["Config"]["Tty"]
if mode == "attach":
    sock = api.attach_socket("c1", params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
else:
    exec_id = api.exec_create("c1", ["cat"], stdin=True, tty=tty)["Id"]
    sock = api.exec_start(exec_id, socket=True, tty=tty)
raw = getattr(sock, "_sock", sock)

def pump():
    while True:
        try:
            chunk = os.read(0, 65536)
        except OSError:
            # A hung-up terminal (EIO) ends the input, as in the Docker CLI,
            # whose stdin copy returns on any error and then calls CloseWrite.
            chunk = b""
        if not chunk:
            break
        raw.sendall(chunk)
    raw.shutdown(socket.SHUT_WR)

threading.Thread(target=pump, daemon=True).start()
for stream, data in frames_iter(sock, tty):
    out = sys.stderr.buffer if stream == STDERR else sys.stdout.buffer
    out.write(data)
    out.flush()

"""aiohttp WebSocket echo server (aiohttp.web) for the interop matrix, on path /ws.

Every data message is sent back as it came (text as text, binary as binary).
Usage: python server.py PORT   (listens on 127.0.0.1)
"""

import sys

from aiohttp import WSMsgType, web


async def websocket_echo(request):
    ws = web.WebSocketResponse(max_msg_size=2**24, compress=False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


def main(port):
    app = web.Application()
    app.router.add_get("/ws", websocket_echo)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))

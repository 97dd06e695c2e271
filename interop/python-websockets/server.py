"""Python `websockets` (asyncio API) echo server for the interop matrix.

Every data message is sent back as it came (text as text, binary as binary).
No compression, no message size limit below what the harness sends.
Usage: python server.py PORT   (listens on 127.0.0.1)
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(port):
    async with serve(echo, "127.0.0.1", port, compression=None, max_size=2**24) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))

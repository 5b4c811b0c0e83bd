"""A TCP relay: accept on one address, forward each connection to another.

    python bench/tcp_relay.py 10.231.7.1:40000 127.0.0.1:5432

The multi-host proof (bench/multihost.py) runs it so that its network namespaces reach
the machine's PostgreSQL, which listens on 127.0.0.1 only, without touching the
server's configuration. It prints "ready" once listening; SIGTERM ends it at once (it
keeps nothing, and what it carried is cut as a network would cut it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def relay(listen: tuple[str, int], target: tuple[str, int]) -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(accept, *listen)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


if __name__ == "__main__":
    if len(sys.argv) != 3:  # `make bench` runs every script bare: say what this one is
        print(__doc__)
        sys.exit(0)
    asyncio.run(relay(address(sys.argv[1]), address(sys.argv[2])))

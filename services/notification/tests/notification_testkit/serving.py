"""Serve an ASGI app over real HTTP inside the test's event loop."""

import asyncio
import socket
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urlsplit

import uvicorn


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self):
        yield


@asynccontextmanager
async def served(app, url: str):
    """`async with served(app, "http://127.0.0.1:PORT"):` the app (already started by its lifespan) there."""
    address = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address.hostname, address.port))
    server = _Server(uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()

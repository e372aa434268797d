"""The plain ``azure.storage.blob.aio`` code the async face is measured against (group ``aio``).

What a careful user would hand-write: one aio ``ContainerClient`` on an aiohttp session whose
connector holds *c* connections (aiohttp keeps 100 otherwise), at most *c* transfers at once
(an ``asyncio.Semaphore``), each directory made once, listing overlapped with the downloads.
The session is made as azure-core makes its own (no cookies, no decompression, proxies from
the environment), with the socket read size azure-storage-blob gives the transport it builds.

Each function runs its own event loop (``asyncio.run``), so a variant is one blocking call
like the thread-pool ones. Nothing here imports ``conventions``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport
from azure.storage.blob.aio import ContainerClient

__all__ = ["container_client", "download", "upload"]


@contextlib.asynccontextmanager
async def container_client(
    connection_string: str, container: str, concurrency: int
) -> AsyncIterator[ContainerClient]:
    """An aio ``ContainerClient`` whose aiohttp connector holds *concurrency* connections."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=True,
    )
    try:
        transport = AioHttpTransport(
            session=session, session_owner=False, connection_data_block_size=256 * 1024
        )
        async with ContainerClient.from_connection_string(
            connection_string, container, transport=transport
        ) as client:
            yield client
    finally:
        await session.close()


async def _bounded(concurrency: int, starts: AsyncIterator[Callable[[], Awaitable[None]]]) -> int:
    """Run each job *starts* yields, at most *concurrency* at once; return how many ran.

    The first failure cancels the jobs still running and is raised."""
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()
    failed: list[BaseException] = []
    count = 0

    async def guarded(job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        finally:
            slots.release()

    def finished(task: asyncio.Task[None]) -> None:
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            failed.append(task.exception())  # type: ignore[arg-type]

    try:
        async for job in starts:
            await slots.acquire()
            if failed:
                slots.release()
                break
            task = asyncio.create_task(guarded(job))
            running.add(task)
            task.add_done_callback(finished)
            count += 1
        while running and not failed:
            await asyncio.wait(set(running), return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(set(running))
    if failed:
        raise failed[0]
    return count


async def _upload(
    connection_string: str,
    container: str,
    files: Sequence[tuple[str, Path]],
    concurrency: int,
) -> int:
    async with container_client(connection_string, container, concurrency) as client:

        async def starts() -> AsyncIterator[Callable[[], Awaitable[None]]]:
            for name, path in files:

                async def one(name: str = name, path: Path = path) -> None:
                    with open(path, "rb") as data:
                        await client.get_blob_client(name).upload_blob(data, overwrite=True)

                yield one

        return await _bounded(concurrency, starts())


def upload(
    connection_string: str,
    container: str,
    files: Sequence[tuple[str, Path]],
    concurrency: int,
) -> int:
    """Upload ``(blob name, local path)`` pairs, *concurrency* at once; return the count."""
    return asyncio.run(_upload(connection_string, container, files, concurrency))


async def _download(connection_string: str, container: str, dest: Path, concurrency: int) -> int:
    made: set[Path] = set()
    async with container_client(connection_string, container, concurrency) as client:

        async def starts() -> AsyncIterator[Callable[[], Awaitable[None]]]:
            async for blob in client.list_blobs():

                async def one(name: str = blob.name) -> None:
                    target = dest / name
                    if target.parent not in made:  # one mkdir per directory, not per file
                        target.parent.mkdir(parents=True, exist_ok=True)
                        made.add(target.parent)
                    data = await (await client.download_blob(name)).readall()
                    with open(target, "wb") as file:
                        file.write(data)

                yield one

        return await _bounded(concurrency, starts())


def download(connection_string: str, container: str, dest: Path, concurrency: int) -> int:
    """Download every blob of *container* under *dest*/<blob name>, *concurrency* at once,
    listing while downloading; return the count."""
    return asyncio.run(_download(connection_string, container, dest, concurrency))

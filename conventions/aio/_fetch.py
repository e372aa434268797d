"""The async face's reads of one blob's bytes, driven by the library, not the SDK.

The SDK's aio ``readinto`` writes on the event loop and, when the task awaiting it is
cancelled, leaves its chunk tasks running (they keep writing). Here the first request is
the SDK's (it learns the size, the ETag and the stored MD5; an empty blob is its case),
and every later range is a ranged GET pinned to that ETag, run by a child task: at most
*max_concurrency* at once, written and hashed in file order, each write a thread hop.
Any failure or cancel cancels and awaits the children before it leaves: nothing keeps
running, nothing writes after. The contract is ``conventions._fetch``'s.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from azure.core import MatchConditions

from .._azure_errors import check_download_answer, translate_reference
from .._fetch import check_complete, stored_md5
from .._integrity import CountingWriter, download_writer
from ._backend import bounded, deadline

if TYPE_CHECKING:
    from .references import OutputFileReference

__all__ = ["DownloadStream", "copy_to", "open_stream", "read_all"]


class _Answers:
    """A ``raw_response_hook`` that checks each answer (rule IG-5) and keeps it, so that
    a request cancelled while its body is read has its connection closed, not left to
    the garbage collector (azure-core's aiohttp transport does not close it). Closed
    after success too: an answer whose body the SDK gave up on (a read timeout, then a
    retry that succeeded) is still open; closing a fully read one changes nothing."""

    def __init__(self) -> None:
        self._responses: list[Any] = []

    def __call__(self, pipeline_response: Any) -> None:  # called, not awaited, by the SDK
        self._responses.append(pipeline_response.http_response)
        check_download_answer(pipeline_response, hook=self)

    def close(self) -> None:
        for response in self._responses:
            close = getattr(getattr(response, "internal_response", None), "close", None)
            if callable(close):
                close()
        self._responses.clear()


#: The ranges after the first, in bytes (the SDK's ``max_chunk_get_size``, 4 MiB).
_DEFAULT_CHUNK = 4 * 1024 * 1024


async def copy_to(
    reference: OutputFileReference,
    file: IO[bytes],
    on_bytes: Callable[[int], None] | None = None,
    *,
    max_concurrency: int = 1,
    then: Callable[[], object] | None = None,
) -> int:
    """Fill *file* with the whole blob; return the bytes written, checked complete (IG-5)
    and against the stored Content-MD5 (IG-2), then run *then* (the commit). Writes,
    hashing, the checks and *then* go to a thread: for a blob that came whole in the first
    answer, one hop does all of them."""
    return await _fill(
        reference, file, on_bytes, max_concurrency, verify=True, in_thread=True, then=then
    )


async def read_all(
    reference: OutputFileReference, max_concurrency: int
) -> tuple[bytes | None, bytes]:
    """The whole blob, checked complete (not yet against its MD5), and its stored MD5."""
    buffer = io.BytesIO()
    stored: list[bytes | None] = []
    await _fill(
        reference, buffer, None, max_concurrency, verify=False, in_thread=False, stored=stored
    )
    return stored[0], buffer.getvalue()


async def _fill(
    reference: OutputFileReference,
    file: IO[bytes],
    on_bytes: Callable[[int], None] | None,
    max_concurrency: int,
    *,
    verify: bool,
    in_thread: bool,
    stored: list[bytes | None] | None = None,
    then: Callable[[], object] | None = None,
) -> int:
    blob_client = reference.blob_client
    container, blob = reference.container_name, reference.blob_name
    writer: CountingWriter | None = None
    answers = _Answers()
    held: list[bytes] = []  # the last piece, written in the final hop with the checks

    async def write(data: bytes) -> None:
        assert writer is not None
        if held:
            previous = held.pop()
            if in_thread:
                await asyncio.to_thread(writer.write, previous)
            else:
                writer.write(previous)
        held.append(data)

    def finish(size: int, md5: bytes | None) -> int:
        assert writer is not None
        for data in held:
            writer.write(data)
        held.clear()
        check_complete(reference, writer.coverage, size)
        if verify:
            writer.verify(md5, container=container, blob=blob)
        if then is not None:
            then()
        return writer.coverage.written

    try:
        async with contextlib.AsyncExitStack() as bounds:
            # A listed size bounds the whole read at once (grace plus the size at the
            # minimum rate); else the first answer has the grace, and the rest the bound
            # for the size it tells.
            await bounds.enter_async_context(deadline(container, blob, reference.size))
            with translate_reference(reference, "download", "r"):
                downloader = await blob_client.download_blob(
                    max_concurrency=1, raw_response_hook=answers
                )
            md5 = stored_md5(downloader)
            if stored is not None:
                stored.append(md5)
            size = int(downloader.size)
            if reference.size is None:
                await bounds.enter_async_context(deadline(container, blob, size))
            writer = (
                download_writer(file, on_bytes, stored_md5=md5, parallel=False)
                if verify
                else CountingWriter(file, on_bytes)
            )
            config: Any = blob_client._config
            first_size = min(size, int(getattr(config, "max_single_get_size", size) or size))
            chunk = int(getattr(config, "max_chunk_get_size", _DEFAULT_CHUNK) or _DEFAULT_CHUNK)
            with translate_reference(reference, "download", "r"):
                first = await downloader.read(first_size) if first_size else b""
                if first:
                    await write(first)
                if len(first) == first_size:
                    ranges = [
                        (start, min(chunk, size - start))
                        for start in range(first_size, size, chunk)
                    ]
                    etag = downloader.properties.etag
                    await _ranged(blob_client, etag, ranges, max(1, max_concurrency), write)
        if in_thread:
            return await asyncio.to_thread(finish, size, md5)
        return finish(size, md5)
    finally:
        answers.close()
        if writer is not None:
            writer.stop()


async def _ranged(
    blob_client: Any,
    etag: str,
    ranges: list[tuple[int, int]],
    max_concurrency: int,
    write: Callable[[bytes], Any],
) -> None:
    """Fetch *ranges* (pinned to *etag*: a changed blob is ``BlobChangedError``), up to
    *max_concurrency* at once, and write them in order; the children are cancelled and
    awaited on the way out, whatever happened."""

    async def fetch(start: int, length: int) -> bytes:
        answers = _Answers()
        try:
            part = await blob_client.download_blob(
                offset=start,
                length=length,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
                max_concurrency=1,
                raw_response_hook=answers,
            )
            data: bytes = await part.readall()
        finally:
            answers.close()
        return data

    pending = iter(ranges)
    running: collections.deque[asyncio.Task[bytes]] = collections.deque()

    def start_next() -> None:
        for start, length in pending:
            running.append(asyncio.ensure_future(fetch(start, length)))
            return

    try:
        for _ in range(max_concurrency):
            start_next()
        while running:
            data = await running[0]
            running.popleft()
            start_next()
            await write(data)
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


async def open_stream(reference: OutputFileReference) -> DownloadStream:
    """``OutputFileReference.open``: a stream over the blob, read as it goes."""
    answers = _Answers()
    try:
        with translate_reference(reference, "download", "r"):
            async with bounded(
                "download", container=reference.container_name, blob=reference.blob_name
            ):
                downloader = await reference.blob_client.download_blob(
                    max_concurrency=1, raw_response_hook=answers
                )
    finally:
        # The first range is read whole by now (the SDK holds it): what is still open is
        # an answer the SDK gave up on (a read timeout, then a retry) or a failed one.
        answers.close()
    return DownloadStream(reference, downloader)


class DownloadStream:
    """A read-only stream over one blob (``await stream.read(n)``), fetched as it is read;
    an async context manager. Errors are the library's, naming container and blob."""

    def __init__(self, reference: OutputFileReference, downloader: Any) -> None:
        self._reference = reference
        self._downloader = downloader
        self.closed = False

    async def read(self, size: int = -1) -> bytes:
        """Up to *size* bytes (all the rest for -1); ``b""`` at the end."""
        if self.closed:
            raise ValueError("read of a closed stream")
        with translate_reference(self._reference, "download", "r"):
            data: bytes = await self._downloader.read(size)
        return data

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> DownloadStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

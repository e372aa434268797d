"""The storages' uploads of a block blob that carries its Content-MD5 (rule IG-1).

Three steps, each a function here: *prepare* (the hashing reader and the plan, from the
pure ``conventions.upload_plan``), *perform* (one Put Blob, or staged blocks and their
commit) and *settle* (check the whole source was read; record the streamed MD5 when the
service computed none). The decisions are in ``upload_plan``; this module only sends.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import mimetypes
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any, cast

from azure.storage.blob import BlobBlock, ContentSettings
from azure.storage.blob.aio import BlobClient, ContainerClient

from .. import upload_plan
from .._azure_errors import translate_errors
from .._integrity import HashingReader, upload_reader
from ..blobs import parse_blob_name
from ..upload_plan import UploadPlan
from ._backend import open_upload, run_parallel, single_put_limit, to_thread
from .references import OutputFileReference

__all__ = ["content_settings", "save_file", "upload"]

_log = logging.getLogger("conventions")

# The content-type table is read from the system's files on first use: read it here, at
# import, not later inside an event loop's callback (kept if the caller already made it).
if not mimetypes.inited:
    mimetypes.init()


def content_settings(name: str, *, charset: str | None = None) -> ContentSettings:
    """The content type guessed from *name* (``application/octet-stream`` if none), with
    *charset* for a text type."""
    content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    if charset and content_type.startswith("text/"):
        content_type += f"; charset={charset}"
    return ContentSettings(content_type=content_type)


async def save_file(
    container_client: ContainerClient, blob_name: str, source: str, max_concurrency: int = 1
) -> OutputFileReference:
    """Upload the local file *source* (already resolved) as *blob_name*."""
    file, body, size = await to_thread(open_upload, source, blob_name)
    with file:
        settings = content_settings(blob_name)
        return await upload(container_client, blob_name, body, size, settings, max_concurrency)


async def upload(
    container_client: ContainerClient,
    blob_name: str,
    data: bytes | IO[bytes],
    size: int,
    settings: ContentSettings,
    max_concurrency: int = 1,
) -> OutputFileReference:
    """Upload a block blob that carries its Content-MD5 (rule IG-1).

    Bytes in memory: the MD5 goes with the upload. A file: hashed while the SDK
    streams it (no second read); a single Put Blob gets its MD5 computed by the
    service, which must equal ours; a file larger than one Put Blob is staged in
    blocks and committed with its MD5 in the block list itself (:func:`_put_blocks`).
    With *max_concurrency* > 1 the blocks are sent in parallel, but the source is read
    (through the ``HashingReader``) in order, on one thread."""
    blob_client = container_client.get_blob_client(blob_name)
    # Prepare.
    config = blob_client._config
    plan = upload_plan.plan_upload(
        size,
        in_memory=isinstance(data, bytes),
        single_put_limit=single_put_limit(
            int(getattr(config, "max_single_put_size", upload_plan.DEFAULT_SINGLE_PUT_LIMIT))
        ),
        block_size=int(getattr(config, "max_block_size", upload_plan.DEFAULT_BLOCK_SIZE)),
    )
    if isinstance(data, bytes):
        settings.content_md5 = bytearray(hashlib.md5(data, usedforsecurity=False).digest())
        with _translated(container_client, blob_name):
            response = await _put(blob_client, data, size, settings, max_concurrency)
        return _saved(container_client, blob_name, size, response, bytes(settings.content_md5))
    reader = upload_reader(data, size)  # a large file: hashed on its own thread
    try:
        with _translated(container_client, blob_name):
            if plan.in_blocks:
                # Perform and settle in one: the commit carries the MD5.
                response = await _put_blocks(
                    blob_client, reader, plan, settings, max_concurrency
                )
                md5 = reader.digest()
                return _saved(container_client, blob_name, size, response, md5, in_blocks=True)
            # Perform.
            response = await _put(
                blob_client, cast(IO[bytes], reader), size, settings, max_concurrency
            )
            # Settle.
            stored = response.get("content_md5")
            settlement = upload_plan.settle_single_put(
                container=str(container_client.container_name),
                blob=blob_name,
                size=size,
                read_bytes=reader.read_bytes,
                stored_md5=None if stored is None else bytes(stored),
                streamed_md5=reader.digest(),
            )
            if settlement.record:
                settings.content_md5 = bytearray(settlement.md5)
                response = await blob_client.set_http_headers(content_settings=settings)
        return _saved(container_client, blob_name, size, response, settlement.md5)
    finally:
        reader.stop()


def _translated(container_client: ContainerClient, blob_name: str) -> Any:
    return translate_errors(
        "save output", container=str(container_client.container_name), blob=blob_name,
        permission="w",
    )


async def _put(
    blob_client: BlobClient,
    body: bytes | IO[bytes],
    size: int,
    settings: ContentSettings,
    max_concurrency: int,
) -> dict[str, Any]:
    response: dict[str, Any] = await blob_client.upload_blob(
        body,
        length=size,
        overwrite=True,
        content_settings=settings,
        max_concurrency=max_concurrency,
    )
    return response


def _saved(
    container_client: ContainerClient,
    blob_name: str,
    size: int,
    response: dict[str, Any],
    md5: bytes | None,
    *,
    in_blocks: bool = False,
) -> OutputFileReference:
    how = " in blocks" if in_blocks else ""
    _log.debug("saved %s%s (%d bytes, md5 %s)", blob_name, how, size, md5.hex() if md5 else None)
    # Without the client (save_many keeps one reference per file): made when used.
    return OutputFileReference.in_container(
        container_client,
        blob_name,
        parse_blob_name(blob_name),
        size=size,
        last_modified=response.get("last_modified"),
        content_md5=md5,
        etag=response.get("etag"),
    )


async def _put_blocks(
    blob_client: BlobClient,
    reader: HashingReader,
    plan: UploadPlan,
    settings: ContentSettings,
    max_concurrency: int,
) -> dict[str, Any]:
    """Upload *plan.size* bytes from *reader* as blocks (up to *max_concurrency* in
    flight), then commit them with the MD5 of what was read in the commit itself (rule
    IG-1): the committed blob never lacks its Content-MD5, whatever fails after."""
    prefix = os.urandom(8).hex()
    block_ids: list[BlobBlock] = []

    async def blocks() -> AsyncIterator[Callable[[], Awaitable[object]]]:
        # Read here, on the calling thread, in order: the MD5 is of the bytes in order.
        for index in range(plan.block_count):
            data = await to_thread(reader.read, plan.block_size)
            if not data:
                break
            block = upload_plan.block_id(prefix, index)
            block_ids.append(BlobBlock(block))
            yield functools.partial(blob_client.stage_block, block, data, length=len(data))

    await run_parallel(blocks(), max(1, max_concurrency), keep_results=False)
    complete = reader.read_bytes == plan.size and not await to_thread(reader.read, 1)
    upload_plan.check_blocks_read(
        container=str(blob_client.container_name),
        blob=str(blob_client.blob_name),
        size=plan.size,
        read_bytes=reader.read_bytes,
        complete=complete,
    )
    settings.content_md5 = bytearray(reader.digest())
    return dict(await blob_client.commit_block_list(block_ids, content_settings=settings))

"""How a save goes up, and how its Content-MD5 is settled afterwards (rule IG-1).

A pure decision (stdlib and attrs; no Azure, no I/O) for the storages' uploads, which run
in three steps: *prepare* (:func:`plan_upload`: one Put Blob or blocks, and the MD5 sent
with a request when it is known beforehand), *perform* (the requests), *settle*
(:func:`settle_single_put` or :func:`check_blocks_read`: was the whole source read, and
does the stored MD5 need recording).

>>> plan = plan_upload(100 * 2**20, in_memory=False, single_put_limit=64 * 2**20,
...                    block_size=4 * 2**20)
>>> plan.in_blocks, plan.block_count
(True, 25)
>>> plan_upload(10, in_memory=True, single_put_limit=64 * 2**20, block_size=4 * 2**20).in_blocks
False
"""

from __future__ import annotations

import base64

import attrs

from .errors import StorageError

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_SINGLE_PUT_LIMIT",
    "Settlement",
    "UploadPlan",
    "block_id",
    "check_blocks_read",
    "plan_upload",
    "settle_single_put",
]

#: azure-storage-blob's defaults (``max_single_put_size``, ``max_block_size``), used when
#: a client does not say.
DEFAULT_SINGLE_PUT_LIMIT = 64 * 1024 * 1024
DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024


@attrs.frozen
class UploadPlan:
    """One upload of *size* bytes: a single Put Blob (through the SDK's ``upload_blob``),
    or staged blocks of *block_size* committed with their MD5 (:attr:`in_blocks`)."""

    size: int
    in_blocks: bool
    block_size: int

    @property
    def block_count(self) -> int:
        """How many blocks *size* bytes make (0 for an empty upload)."""
        return -(-self.size // self.block_size)


def plan_upload(
    size: int, *, in_memory: bool, single_put_limit: int, block_size: int
) -> UploadPlan:
    """Bytes in memory go in one ``upload_blob`` with their MD5 computed beforehand; a
    file (hashed as it is read) larger than *single_put_limit* goes in blocks, so that
    the commit itself carries the MD5 and the committed blob never lacks it."""
    return UploadPlan(size, not in_memory and size > single_put_limit, block_size)


def block_id(prefix: str, index: int) -> str:
    """The block ID of block *index* of an upload whose random *prefix* keeps its IDs
    apart from any other upload's uncommitted blocks (all of one upload's IDs have the
    same length, as the service requires).

    >>> block_id("0011223344556677", 3)
    'MDAxMTIyMzM0NDU1NjY3Ny0wMDAwMDM='
    """
    return base64.b64encode(f"{prefix}-{index:06d}".encode()).decode()


@attrs.frozen
class Settlement:
    """After a single put of a file: the MD5 the blob ends with, and whether it must be
    recorded with a Set Blob Properties (*record*)."""

    md5: bytes
    record: bool


def settle_single_put(
    *,
    container: str,
    blob: str,
    size: int,
    read_bytes: int,
    stored_md5: bytes | None,
    streamed_md5: bytes,
) -> Settlement:
    """Settle a single put of a file streamed through a hashing reader.

    Fewer (or more) bytes read than *size*: ``StorageError``. The service computes the
    MD5 of a single put; when it reports none (or another), the streamed MD5 is recorded:
    a single put whose MD5 differs would be overwritten here, then caught by every
    download (``IntegrityError``).

    >>> settle_single_put(container="c", blob="b", size=1, read_bytes=1,
    ...                   stored_md5=None, streamed_md5=b"m")
    Settlement(md5=b'm', record=True)
    """
    if read_bytes != size:
        raise StorageError(
            f"saving blob {blob!r} in container {container!r}: "
            f"read {read_bytes} of {size} bytes of the source",
            container=container,
            blob=blob,
        )
    if stored_md5 != streamed_md5:
        return Settlement(streamed_md5, record=True)
    return Settlement(stored_md5, record=False)


def check_blocks_read(
    *, container: str, blob: str, size: int, read_bytes: int, complete: bool
) -> None:
    """Before committing blocks: the source must have held exactly *size* bytes
    (*complete*: nothing was left after them), else ``StorageError`` and no commit."""
    if not complete:
        raise StorageError(
            f"saving blob {blob!r} in container {container!r}: the source did not hold the "
            f"{size} bytes it had when the save started (read {read_bytes})",
            container=container,
            blob=blob,
        )

# Generated from conventions/aio/_download.py by scripts/unasync.py: do not edit.
# ruff: noqa
"""Reading one stored output: the I/O sequencing behind ``OutputFileReference``'s
``download_to_file``, ``download_bytes`` and ``delete``, and behind each file of a
whole-job download (``conventions.transfer``).

Each download is explicit steps: walk to the target's directory and open a temporary
file there, fill it with the blob's bytes (``_fetch.copy_to``: the first answer chooses
the writer, every answer and the whole are checked, rules IG-5 and IG-2), then commit it
(renamed onto the target) or discard it (removed). A blob that changed between the
requests of one read is read again in an explicit loop whose decision is rule IG-4's
(``conventions._integrity_rules.read_again_after_change``).

Imports azure-storage-blob; ``import conventions`` does not load it.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ._azure_errors import translate_reference
from ._integrity import check_md5, md5_of, read_again_after_change
from ._local_files import Destination
from ._transport import check_chunk_concurrency
from .errors import BlobChangedError
from ._backend import open_destination, shielded, to_thread, writing
from ._fetch import copy_to, read_all

if TYPE_CHECKING:
    from .references import OutputFileReference

__all__ = ["again_if_changed", "delete", "download_bytes", "download_to_file"]

_log = logging.getLogger("conventions")

_R = TypeVar("_R")


def again_if_changed(read: Callable[[], _R]) -> _R:
    """``read()``, again while it raises ``BlobChangedError`` (a log appended to between
    the requests of one download) and rule IG-4 says to read again; each attempt reads
    one whole version; the last one's error is raised."""
    attempt = 1
    while True:
        try:
            return read()
        except BlobChangedError as error:
            if not read_again_after_change(attempt):
                raise
            attempt += 1
            _log.info("%s; reading it again (attempt %d)", error, attempt)


def download_to_file(
    reference: OutputFileReference, dest: str | os.PathLike[str], max_concurrency: int
) -> Path:
    """``OutputFileReference.download_to_file``: into a temporary file beside *dest*,
    renamed onto it once complete and verified."""
    check_chunk_concurrency(max_concurrency)
    target = Path(dest)
    with open_destination(target.parent) as directory:
        written = again_if_changed(
            lambda: _write(directory, target.name, reference, max_concurrency)
        )
    _log.debug("downloaded %s to %s (%d bytes)", reference.blob_name, target, written)
    return target


def _write(
    directory: Destination, name: str, reference: OutputFileReference, max_concurrency: int
) -> int:
    """One attempt: a temporary file filled, then committed, or discarded on any failure."""
    with writing(directory, (name,), blob=reference.blob_name) as place:
        file = place.open()
        commit = functools.partial(place.commit, file)
        try:
            written = copy_to(reference, file, max_concurrency=max_concurrency, then=commit)
        except BaseException:
            place.discard(file)
            raise
        return written


def download_bytes(reference: OutputFileReference, max_concurrency: int) -> bytes:
    """``OutputFileReference.download_bytes``: the whole blob, checked."""
    check_chunk_concurrency(max_concurrency)
    stored, data = again_if_changed(lambda: read_all(reference, max_concurrency))
    if stored is not None:  # rule IG-3: without one, nothing to hash for
        actual = md5_of(data)
        check_md5(stored, actual, container=reference.container_name, blob=reference.blob_name)
    return data


def delete(reference: OutputFileReference) -> None:
    """``OutputFileReference.delete``."""
    with translate_reference(reference, "delete", "d"):
        reference.blob_client.delete_blob()

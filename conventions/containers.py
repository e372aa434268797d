"""Container names (rules CN-1 to CN-4). Pure: no I/O, no Azure import."""

from __future__ import annotations

import hashlib
import re

from .ids import check_job_id

__all__ = ["container_name", "is_valid_container_name"]

# Azure: 3-63 characters, lower-case letters, digits and '-', starting and ending
# with a letter or digit, no '--'. Written as runs of [a-z0-9] joined by single
# dashes, matched with fullmatch so that a trailing newline never passes (D-6).
_CONTAINER_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
_SEPARATOR_RUN = re.compile(r"[:_-]+", re.ASCII)
_READABLE_PART_MAX = 15


def is_valid_container_name(name: str) -> bool:
    """Tell whether *name* is a legal Azure blob container name (rule CN-1).

    >>> is_valid_container_name("job-myterrificjob")
    True
    >>> is_valid_container_name("job--x"), is_valid_container_name("job-x\\n")
    (False, False)
    """
    return (
        isinstance(name, str)
        and 3 <= len(name) <= 63
        and _CONTAINER_NAME.fullmatch(name) is not None
    )


def container_name(job_id: str) -> str:
    """Return the blob container that holds the outputs of *job_id* (rules CN-2 to CN-4).

    Byte-identical to .NET ``ContainerNameUtils.GetSafeContainerName``: ``job-<id>``
    lower-cased when that is a legal container name, otherwise a readable prefix of
    the ID plus the SHA-1 of the lower-cased ID.

    >>> container_name("MyTerrificJob")
    'job-myterrificjob'
    >>> container_name("my-_EVEN_MORE_-terrific-job")
    'job-my-even-more-te-68b05a7d8aa6aa65b9a6892c667a6c406a16ad65'
    >>> container_name("myschedule:job-1")
    'job-myschedule-job-fcc0f4039642525f029cc35636299a190878d6b3'

    Raises:
        InvalidIdError: *job_id* is not a Batch job ID (rule ID-1).
    """
    # Batch IDs are ASCII (checked), so str.lower() cannot change the length.
    lowered = check_job_id(job_id).lower()
    simple = "job-" + lowered
    if is_valid_container_name(simple):
        return simple
    digest = hashlib.sha1(lowered.encode("utf-8"), usedforsecurity=False).hexdigest()
    readable = _SEPARATOR_RUN.sub("-", lowered).strip("-")
    if len(readable) > _READABLE_PART_MAX:
        readable = readable[:_READABLE_PART_MAX].rstrip("-")
    elif not readable:
        readable = "job"
    return f"job-{readable}-{digest}"

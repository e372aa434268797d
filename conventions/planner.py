"""Which files the Batch service would upload for an OutputFile list, and where (rule OF-9).

:func:`plan_uploads` applies the service's pattern rules to a local directory, so that a
wrong list shows up before a job runs; :func:`upload_planned` carries a plan out with a
container client, standing in for the service in tests and demos.

Pure apart from reading the file system: azure-storage-blob is imported only inside
:func:`upload_planned`.
"""

from __future__ import annotations

import errno
import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from .errors import InvalidPathError, LocalPathError, NoMatchingFilesError
from .output_files import OutputFile, check_exit_code, has_wildcard
from .paths import destination_path

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

__all__ = ["PlannedUpload", "plan_uploads", "upload_planned"]


@attrs.frozen
class PlannedUpload:
    """One file the service would upload: where it is, its blob name, the entry that matched."""

    local_path: Path
    """The file, as the working directory joined with the matched relative path, normalised."""
    blob_name: str
    """The blob it would be stored as, in the OutputFile's container."""
    output_file: OutputFile
    """The OutputFile whose pattern matched."""


def _fixed_directory(pattern: str) -> str:
    """Return the pattern's leading directories before the first segment with a wildcard."""
    fixed: list[str] = []
    for segment in pattern.split("/")[:-1]:
        if has_wildcard(segment):
            break
        fixed.append(segment)
    return "/".join(fixed) or ("/" if pattern.startswith("/") else ".")


def _check_blob_name(name: str, local_path: Path) -> str:
    try:
        normal = destination_path(name)
    except InvalidPathError as error:
        raise InvalidPathError(
            str(local_path),
            f"would be uploaded as {name!r}, which is not a valid blob name: {error.rule}",
            subject="file",
        ) from error
    if normal != name:
        raise InvalidPathError(
            str(local_path),
            f"would be uploaded as {name!r}, which Azure stores as {normal!r} (rule OF-9)",
            subject="file",
        )
    return name


def _plan_one(output_file: OutputFile, working_dir: str) -> list[PlannedUpload]:
    pattern = output_file.file_pattern
    path = output_file.path
    if not has_wildcard(pattern):
        local = os.path.normpath(os.path.join(working_dir, pattern))
        if not os.path.isfile(local):
            return []
        name = path if path is not None else os.path.basename(local)
        return [PlannedUpload(Path(local), _check_blob_name(name, Path(local)), output_file)]
    # glob has the service's rules exactly: '*', '?' and '[...]' (fnmatch, with '[!a]'
    # and '[*]') within one directory level, '**' across levels, and names starting
    # with '.' skipped unless the pattern spells the dot. Only files are uploaded.
    base = os.path.normpath(os.path.join(working_dir, _fixed_directory(pattern)))
    found: dict[str, PlannedUpload] = {}
    for match in glob.glob(pattern, root_dir=working_dir, recursive=True):
        joined = os.path.join(working_dir, match)
        local = os.path.normpath(joined)
        # Checked before normalising: glob gives 'a/' for 'a/**' when 'a' is a file, and
        # a file is not under itself.
        if local in found or not os.path.isfile(joined):
            continue
        # Our reading of the service (decision D-12): the blob name is the virtual
        # directory plus the file's path below the pattern's fixed leading directory,
        # so '**' keeps subfolders.
        relative = os.path.relpath(local, base).replace(os.sep, "/")
        name = relative if path is None else f"{path}/{relative}"
        found[local] = PlannedUpload(Path(local), _check_blob_name(name, Path(local)), output_file)
    return sorted(found.values(), key=lambda upload: (upload.blob_name, str(upload.local_path)))


def plan_uploads(
    output_files: Iterable[OutputFile],
    working_dir: str | os.PathLike[str],
    *,
    exit_code: int,
    allow_empty: bool = False,
) -> list[PlannedUpload]:
    """Return the files the Batch service would upload for *output_files*, and their blob names.

    Follows the service's rules for a Linux node (rule OF-9): patterns are relative to
    *working_dir* (``..`` allowed) unless absolute; ``*`` matches within one directory
    level, ``**`` any number of levels, ``?`` one character, ``[abc]``, ``[a-c]`` and
    ``[!a]`` one character of a set; ``[*]`` matches a literal ``*``; names starting with
    ``.`` match only where the pattern spells the dot; only ``/`` separates directories
    and case matters. Environment variables in patterns are not expanded.

    An entry whose upload condition does not hold for *exit_code* plans nothing. A
    pattern without a wildcard is uploaded to its ``path`` (the blob name). With a
    wildcard, each file goes to ``path`` + its path below the pattern's leading
    directories that hold no wildcard: ``out/**/*.csv`` puts ``out/a/b.csv`` at
    ``<path>/a/b.csv``. The docs do not say how ``**`` keeps subfolders; this is our
    reading (decision D-12). Within each entry, uploads are sorted by blob name; entries
    keep their order, and a file matched by two entries appears twice.

    A plan in which no pattern whose condition holds matches a file raises
    ``NoMatchingFilesError`` (the CLI's ``plan`` exits 1), unless *allow_empty* says no
    file is fine; a plan that is empty because no condition holds for *exit_code* is
    the answer, not a miss, and is returned. A *working_dir* that is not a directory
    raises ``LocalPathError``.

    >>> import tempfile
    >>> from conventions import std_logs
    >>> url = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"
    >>> with tempfile.TemporaryDirectory() as task_dir:
    ...     for name in ["stdout.txt", "stderr.txt", "wd/res/a.csv", "wd/res/.tmp.csv"]:
    ...         os.makedirs(os.path.dirname(os.path.join(task_dir, name)), exist_ok=True)
    ...         open(os.path.join(task_dir, name), "w").close()
    ...     plan = plan_uploads(std_logs(url, "t1", "res/*.csv"), f"{task_dir}/wd", exit_code=0)
    ...     [upload.blob_name for upload in plan]
    ['t1/$TaskLog/stderr.txt', 't1/$TaskLog/stdout.txt', 't1/$TaskOutput/a.csv']

    Raises:
        InvalidArgumentError: *exit_code* is not an ``int``.
        InvalidPathError: a matched file would get a blob name that Azure refuses or
            changes (a name ending in ``.``, a control character, a ``\\``).
        NoMatchingFilesError: nothing matched, without *allow_empty*.
        LocalPathError: *working_dir* is missing or not a directory.
    """
    check_exit_code(exit_code)
    directory = os.fspath(working_dir)
    if not os.path.isdir(directory):
        raise LocalPathError(
            f"cannot plan uploads: the working directory {directory!r} "
            f"{'is not a directory' if os.path.exists(directory) else 'does not exist'}. "
            "Give the task's working directory",
            path=directory,
            errno=errno.ENOTDIR if os.path.exists(directory) else errno.ENOENT,
        )
    plan: list[PlannedUpload] = []
    tried: list[str] = []
    for output_file in output_files:
        if output_file.upload_condition.applies(exit_code=exit_code):
            tried.append(output_file.file_pattern)
            plan.extend(_plan_one(output_file, directory))
    if tried and not plan and not allow_empty:
        quoted = ", ".join(repr(pattern) for pattern in tried)
        raise NoMatchingFilesError(
            f"nothing would be uploaded: no file in {directory} matches {quoted} "
            f"(exit code {exit_code}). Check the patterns and the working directory, or "
            "pass allow_empty=True if no file is fine",
            path=directory,
            patterns=tried,
        )
    return plan


def upload_planned(plan: Sequence[PlannedUpload], container_client: ContainerClient) -> list[str]:
    """Upload every file of *plan* with *container_client*; return the blob names written.

    Stands in for the Batch service: each file is written to its blob name (replacing a
    blob already there), with a content type guessed by :mod:`mimetypes`. The
    OutputFiles' container URLs and upload headers are not used; the client decides
    where and how to write.

    Raises:
        ContainerNotFoundError: the container does not exist.
        AccessDeniedError: the client may not write (a SAS without ``w``).
        StorageError: any other storage failure; the Azure error is its ``__cause__``.
    """
    # Imported here: the planner itself stays free of Azure imports (rule: pure modules).
    from ._azure_errors import translate_errors
    from .storage import _content_settings

    container = container_client.container_name
    written: list[str] = []
    for upload in plan:
        name = upload.blob_name
        with (
            translate_errors("upload to", container=container, blob=name, permission="w"),
            upload.local_path.open("rb") as data,
        ):
            container_client.upload_blob(
                name,
                data,
                overwrite=True,
                content_settings=_content_settings(upload.local_path.name),
            )
        written.append(name)
    return written

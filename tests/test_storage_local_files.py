"""Local files on Azurite: containment against a racing process, per-output download failures,
save sources that are not files, globs over symlink cycles, two inputs on one blob."""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from conventions import (
    AccessDeniedError,
    DownloadError,
    InvalidPathError,
    LocalPathError,
    OutputNotFoundError,
    TaskOutputKind,
)
from conventions._local_files import Destination
from conventions.sas import output_container_url, prepare_output_storage

from .face_fixtures import Face
from .storage_support import tree

OUT = TaskOutputKind.TASK_OUTPUT


@pytest.fixture
def job(
    face: Face, face_service: Any, blob_service_client: BlobServiceClient, job_id: str
) -> Iterator[Any]:
    """The face's ``JobOutputStorage`` (every test that takes it runs on both faces)."""
    prepare_output_storage(blob_service_client, job_id)
    with face.JobOutputStorage.from_service_client(face_service, job_id) as storage:
        yield storage


def _blobs(job: Any) -> list[str]:
    return sorted(blob.name for blob in job.container_client.list_blobs())


def _parts_files(root: Path) -> list[Path]:
    return list(root.rglob("*.part"))


# -- containment against a racing local process ---------------------------------------------


def _swap(sub_path: str, outside: str, stop: Any) -> None:
    """Swap *sub_path* for a symlink to *outside* and back until *stop* is set."""
    sub = Path(sub_path)
    moved = sub.with_name("sub.real")
    while not stop.is_set():
        try:
            os.rename(sub, moved)
            os.symlink(outside, sub, target_is_directory=True)
            time.sleep(0.0005)
            os.unlink(sub)
            os.rename(moved, sub)
        except OSError:
            pass  # the download made 'sub' meanwhile: try again


def test_a_racing_symlink_swap_never_gets_a_byte_outside_dest(job: Any, tmp_path: Path) -> None:
    task = job.task("t1")
    for i in range(300):
        task.save_bytes(OUT, f"file {i}".encode(), f"sub/f{i:03}.txt")
    outputs = list(job.list_task_outputs(OUT))
    outside = tmp_path / "outside"
    outside.mkdir()
    refused = 0
    for run in range(10):
        dest = tmp_path / f"dest{run}"
        sub = dest / "t1" / "sub"
        sub.mkdir(parents=True)
        # Another process, as the section says (a thread would also compete with the
        # download for the interpreter lock, which is not what this test is about).
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        swapper = context.Process(target=_swap, args=(str(sub), str(outside), stop))
        swapper.start()
        try:
            job.download_outputs(outputs, dest)
            failures: tuple[object, ...] = ()
        except DownloadError as error:
            failures = error.failures
        finally:
            stop.set()
            swapper.join(30)
        assert list(outside.iterdir()) == [], f"run {run} wrote outside dest"
        assert _parts_files(tmp_path) == []
        written = [p for p in dest.rglob("*.txt") if p.is_file() and not p.is_symlink()]
        assert len(written) + len(failures) == 300
        for failure in failures:
            assert isinstance(failure.error, LocalPathError)  # type: ignore[attr-defined]
            # The symlink was refused (ELOOP, or ENOTDIR if it was gone by the time the
            # message looked), or 'sub' vanished between two steps of the swap (ENOENT).
            code = failure.error.errno  # type: ignore[attr-defined]
            assert code in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT)
            refused += code != errno.ENOENT
    # The race really ran: some files met the symlink (and were refused, not followed).
    assert refused > 0


def test_a_symlink_loop_under_dest_fails_only_its_outputs(job: Any, tmp_path: Path) -> None:
    job.task("t1").save_bytes(OUT, b"a", "loop/a.txt")
    job.task("t2").save_bytes(OUT, b"b", "b.txt")
    dest = tmp_path / "dest"
    (dest / "t1").mkdir(parents=True)
    (dest / "t1" / "loop").symlink_to("loop2")
    (dest / "t1" / "loop2").symlink_to("loop")
    with pytest.raises(DownloadError, match="1 of 2") as caught:
        job.download(OUT, dest)
    [failure] = caught.value.failures
    assert failure.output.blob_name == "t1/$TaskOutput/loop/a.txt"
    assert failure.error.errno == errno.ELOOP
    assert (dest / "t2" / "b.txt").read_bytes() == b"b"


# -- whole-job downloads finish what they can -----------------------------------------------


def test_file_and_folder_of_the_same_name_report_the_file_and_write_the_rest(
    job: Any, tmp_path: Path
) -> None:
    task = job.task("t")
    task.save_bytes(OUT, b"file", "x")
    task.save_bytes(OUT, b"nested", "x/y")
    task.save_bytes(OUT, b"long", "a" * 1000)
    task.save_bytes(OUT, b"fine", "fine.txt")
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError) as caught:
        job.download(OUT, dest)
    error = caught.value
    assert str(error).startswith(f"2 of 4 outputs were not downloaded into {str(dest)!r}")
    assert sorted(f.output.path for f in error.failures) == sorted(["x", "a" * 1000])
    by_path = {f.output.path: f for f in error.failures}
    assert by_path["x"].error.errno == errno.EISDIR
    assert by_path["x"].local_path == str(dest / "t" / "x")
    assert by_path["a" * 1000].error.errno == errno.ENAMETOOLONG
    assert "rule LP-2" in str(by_path["a" * 1000])
    assert tree(dest) == {"t/x/y": b"nested", "t/fine.txt": b"fine"}
    assert error.summary.files == 2


def test_target_that_is_a_directory_or_under_a_file_fails_alone(job: Any, tmp_path: Path) -> None:
    task = job.task("t")
    for path in ("is-dir", "under-file/x", "ok"):
        task.save_bytes(OUT, b"data", path)
    dest = tmp_path / "dest"
    (dest / "t" / "is-dir").mkdir(parents=True)
    (dest / "t" / "under-file").write_bytes(b"a file")
    with pytest.raises(DownloadError, match="2 of 3") as caught:
        job.download(OUT, dest)
    codes = {f.output.path: f.error.errno for f in caught.value.failures}
    assert codes == {"is-dir": errno.EISDIR, "under-file/x": errno.ENOTDIR}
    assert (dest / "t" / "ok").read_bytes() == b"data"
    assert (dest / "t" / "under-file").read_bytes() == b"a file"
    assert _parts_files(dest) == []


def test_an_output_deleted_meanwhile_fails_alone(job: Any, tmp_path: Path) -> None:
    for i in range(3):
        job.task("t").save_bytes(OUT, b"x", f"{i}.txt")
    listed = list(job.list_task_outputs(OUT))
    listed[1].delete()
    with pytest.raises(DownloadError) as caught:
        job.download_outputs(listed, tmp_path)
    [failure] = caught.value.failures
    assert isinstance(failure.error, OutputNotFoundError)
    assert "t/$TaskOutput/1.txt" in str(failure)
    assert str(tmp_path / "t" / "1.txt") in str(failure)
    assert tree(tmp_path) == {"t/0.txt": b"x", "t/2.txt": b"x"}


def test_read_denied_on_every_blob_is_one_readable_error(
    face: Face, blob_service_client: BlobServiceClient, job: Any, job_id: str, tmp_path: Path
) -> None:
    for i in range(40):
        job.task("t").save_bytes(OUT, b"x", f"{i:02}.txt")
    url = output_container_url(blob_service_client, job_id, permissions="l")
    with (
        face.JobOutputStorage.from_container_url(url) as listing_only,
        pytest.raises(DownloadError) as caught,
    ):
        listing_only.download(OUT, tmp_path)
    message = str(caught.value)
    assert message.startswith("40 of 40 outputs were not downloaded")
    assert "40 x AccessDeniedError" in message, message
    assert len(message) < 1000  # one example, not 40 copies
    assert all(isinstance(f.error, AccessDeniedError) for f in caught.value.failures)
    assert "sig=" not in message
    assert tree(tmp_path) == {}


# -- download_to_file -------------------------------------------------------------------------


def test_download_to_file_replaces_a_symlink_and_refuses_a_directory(
    job: Any, tmp_path: Path
) -> None:
    ref = job.task("t").save_bytes(OUT, b"new", "n.txt")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep")
    link = tmp_path / "dir" / "n.txt"
    link.parent.mkdir()
    link.symlink_to(victim)
    ref.download_to_file(link)
    assert not link.is_symlink()
    assert link.read_bytes() == b"new"
    assert victim.read_bytes() == b"keep"
    (tmp_path / "d2" / "n.txt").mkdir(parents=True)
    with pytest.raises(LocalPathError, match="is a directory") as caught:
        ref.download_to_file(tmp_path / "d2" / "n.txt")
    assert caught.value.errno == errno.EISDIR
    assert _parts_files(tmp_path) == []


# No face: Destination (conventions._local_files) is the file layer both faces share.
def test_the_fallback_without_dir_fd_refuses_static_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "dest" / "t").mkdir(parents=True)
    (tmp_path / "dest" / "t" / "link").symlink_to(outside, target_is_directory=True)
    with Destination(tmp_path / "dest", dir_fd=False) as dest:
        assert dest.write(("t", "a", "f.txt"), lambda f: f.write(b"ok"), blob="b") == 2
        with pytest.raises(LocalPathError) as caught:
            dest.write(("t", "link", "f.txt"), lambda f: f.write(b"no"), blob="b")
    assert caught.value.errno == errno.ELOOP
    assert (tmp_path / "dest" / "t" / "a" / "f.txt").read_bytes() == b"ok"
    assert list(outside.iterdir()) == []


# -- saves refuse what cannot be read as a file ---------------------------------------------


def _in_thread(action: object, seconds: float) -> list[BaseException]:
    """Run *action* on a daemon thread; fail if it is still running after *seconds*."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()  # type: ignore[operator]
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return errors


def test_saving_a_fifo_fails_at_once_without_a_request(job: Any, tmp_path: Path) -> None:
    task = job.task("t")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    try:
        errors = _in_thread(lambda: task.save(OUT, "pipe", base_dir=tmp_path), 10)
    finally:
        # Unblock a save stuck in open() (the bug), so the test process can end.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    [error] = errors
    assert isinstance(error, LocalPathError)
    assert "FIFO" in str(error)
    assert "t/$TaskOutput/pipe" in str(error)
    assert _blobs(job) == []


@pytest.mark.parametrize("what", ["directory", "device", "socket", "missing"])
def test_saving_what_is_not_a_file_fails_before_any_request(
    job: Any, tmp_path: Path, what: str
) -> None:
    (tmp_path / "good.txt").write_bytes(b"good")
    source = "bad"
    if what == "directory":
        (tmp_path / "bad").mkdir()
    elif what == "device":
        (tmp_path / "bad").symlink_to("/dev/null")  # followed, as saves follow links
    elif what == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(tmp_path / "bad"))
    task = job.task("t")
    with pytest.raises(LocalPathError, match="rule LP-4") as caught:
        task.save(OUT, source, base_dir=tmp_path)
    assert caught.value.path == str(tmp_path / "bad")
    assert caught.value.blob == "t/$TaskOutput/bad"
    with pytest.raises(LocalPathError):
        task.save_many(OUT, ["good.txt", source], base_dir=tmp_path)
    assert _blobs(job) == []  # not even good.txt: every source is checked first
    if what == "socket":
        server.close()


def test_two_inputs_on_one_blob_raise_before_the_first_upload(job: Any, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "stdout.txt").write_bytes(b"outer")
    (work / "stdout.txt").write_bytes(b"inner")
    with pytest.raises(InvalidPathError, match="rule LP-5"):
        job.task("t").save_many(OUT, ["../stdout.txt", "stdout.txt"], base_dir=work)
    assert _blobs(job) == []


def test_glob_over_two_symlink_cycles_is_fast_and_saves_each_file_once(
    job: Any, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "c").mkdir()
    for path in ("top.txt", "a/one.txt", "a/b/two.txt", "c/three.txt"):
        (root / path).write_bytes(path.encode())
    (root / "a" / "b" / "up").symlink_to("../..", target_is_directory=True)  # cycle 1
    (root / "c" / "back").symlink_to(root / "c", target_is_directory=True)  # cycle 2
    (root / "c" / "to-a").symlink_to(root / "a", target_is_directory=True)
    task = job.task("t")
    saved: list[object] = []
    started = time.monotonic()
    errors = _in_thread(lambda: saved.extend(task.save_many(OUT, "**/*.txt", base_dir=root)), 20)
    assert errors == []
    assert time.monotonic() - started < 20
    assert _blobs(job) == [
        "t/$TaskOutput/a/b/two.txt",
        "t/$TaskOutput/a/one.txt",
        "t/$TaskOutput/c/three.txt",
        "t/$TaskOutput/top.txt",
    ]
    assert len(saved) == 4
    # Non-'**' segments still follow a directory symlink, as glob does.
    assert [r.path for r in task.save_many(OUT, "c/to-a/*.txt", base_dir=root)] == [
        "c/to-a/one.txt"
    ]

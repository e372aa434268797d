"""The ``face`` fixture: one test, both faces (sync, and async through tests/faces.py).

Imported by conftest.py. A test asks for ``face`` and writes sync code against
``face.TaskOutputStorage`` / ``face.JobOutputStorage`` / ``face.OutputFileReference`` (and the
other names of ``conventions.storage`` and ``conventions.references``); it runs twice::

    def test_round_trip(face, azurite, job_id, tmp_path):
        with face.TaskOutputStorage.from_connection_string(cs, job_id, "t1") as storage:
            ref = storage.save_text(TaskOutputKind.TASK_OUTPUT, "hi", "a.txt")
            assert ref.download_text() == "hi"

The async run fails (at teardown) on a callback that blocked the loop, a task left pending, an
error the loop reported or a ResourceWarning. While ``conventions.aio`` does not exist, the
async run is skipped; once it exists it runs, with nothing else to change here. If it exists
but cannot be imported, the async run fails with the import error.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from conventions import references, storage

from .faces import Portal, PortalProblems

__all__ = ["FACE_CLASSES", "Face", "async_face_module", "face", "portal", "portal_session"]

#: The classes that differ between the faces; every other name is the same object in both.
FACE_CLASSES = ("TaskOutputStorage", "JobOutputStorage", "OutputFileReference")

AIO_MODULE = "conventions.aio"
NOT_YET = (
    f"{AIO_MODULE} does not exist yet (issue 23): the async face runs once it does, "
    "with no change to the tests"
)


def async_face_module() -> Any | None:
    """``conventions.aio``, or None while it does not exist. Raises if it exists but fails to
    import (a broken async face must fail the tests, not skip them)."""
    try:
        found = importlib.util.find_spec(AIO_MODULE)
    except ModuleNotFoundError:
        found = None
    if found is None:
        return None
    return importlib.import_module(AIO_MODULE)


class Face:
    """The public names of ``conventions.storage`` and ``conventions.references`` for one face."""

    TaskOutputStorage: Any
    JobOutputStorage: Any
    OutputFileReference: Any

    def __init__(self, name: str, names: dict[str, Any], portal: Portal | None) -> None:
        self.name = name
        self.portal = portal
        self._names = names
        for attribute in FACE_CLASSES:
            setattr(self, attribute, names[attribute])

    @property
    def is_async(self) -> bool:
        return self.portal is not None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_names"][name]
        except KeyError:
            raise AttributeError(f"the {self.name} face has no {name!r}") from None

    def __repr__(self) -> str:
        return f"<{self.name} face>"


def _public_names() -> list[str]:
    return [*storage.__all__, *references.__all__]


def sync_face() -> Face:
    names = {name: getattr(storage, name) for name in storage.__all__}
    names.update({name: getattr(references, name) for name in references.__all__})
    return Face("sync", names, None)


def async_face(aio: Any, portal: Portal) -> Face:
    """The async face's classes wrapped by *portal*; the names ``conventions.aio`` does not
    export are taken from the sync modules (the value classes, errors and constants are the
    same objects in both faces)."""
    synced = sync_face()
    names: dict[str, Any] = {}
    for name in _public_names():
        if name in FACE_CLASSES:
            names[name] = portal.wrap(getattr(aio, name), force=True)
        elif hasattr(aio, name):
            names[name] = portal.wrap(getattr(aio, name))
        else:
            names[name] = getattr(synced, name)
    return Face("async", names, portal)


@pytest.fixture(scope="session")
def portal_session() -> Iterator[Portal]:
    """The session's (with xdist: the worker's) portal, started on first use."""
    with Portal() as started:
        yield started


@pytest.fixture
def portal(portal_session: Portal, request: pytest.FixtureRequest) -> Iterator[Portal]:
    """The session's portal, checked around the test (tests/faces.py ``Portal.checking``)."""
    failure = None
    try:
        with portal_session.checking(request.node.nodeid):
            yield portal_session
    except PortalProblems as problems:
        failure = str(problems)  # failed below, outside the handler: one message, no chain
    if failure is not None:
        pytest.fail(failure, pytrace=False)


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> Face:
    """Each test runs on the sync face and on the async face (through the portal)."""
    if request.param == "sync":
        return sync_face()
    try:
        aio = async_face_module()
    except ImportError as error:
        pytest.fail(f"{AIO_MODULE} exists but does not import: {error!r}", pytrace=False)
    if aio is None:
        pytest.skip(NOT_YET)
    return async_face(aio, request.getfixturevalue("portal"))

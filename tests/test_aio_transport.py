"""The async face's transport (conventions/aio/_transport.py): it reads the environment's
proxy settings once per scheme and host, in the event loop's thread, instead of aiohttp's
``trust_env`` (which reads them, and ``~/.netrc``, in a worker thread on every request:
two thread hops per request). What it chooses must be what aiohttp would have chosen."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest
from aiohttp.helpers import get_env_proxy_for_url
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

import conventions.aio as aio
from conventions.aio._transport import pooled_client_kwargs
from conventions.errors import ContainerNotFoundError, StorageError
from scripts.azurite import StorageEndpoint

_PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _aiohttp_choice(url: str) -> str | None:
    try:
        proxy, _auth = get_env_proxy_for_url(URL(url))
    except LookupError:
        return None
    return str(proxy)


@settings(max_examples=60, deadline=None)
@given(
    env=st.fixed_dictionaries(
        {},
        optional={
            "HTTP_PROXY": st.sampled_from(["http://127.0.0.1:3128", "http://proxy.example:8080"]),
            "HTTPS_PROXY": st.sampled_from(["http://127.0.0.1:3129"]),
            "NO_PROXY": st.sampled_from(
                ["127.0.0.1", "localhost,.example", "*", "blob.core.windows.net"]
            ),
        },
    ),
    url=st.sampled_from(
        [
            "http://127.0.0.1:10000/devstoreaccount1/job-x/t1/%24TaskOutput/a",
            "https://acct.blob.core.windows.net/job-x/b?sv=1",
            "https://other.example/c",
        ]
    ),
)
def test_the_proxy_chosen_once_per_host_is_the_one_aiohttp_would_choose(
    env: dict[str, str], url: str
) -> None:
    saved = {name: os.environ.pop(name, None) for name in _PROXY_ENV}
    saved.update({name.lower(): os.environ.pop(name.lower(), None) for name in _PROXY_ENV})
    try:
        os.environ.update(env)
        transport = pooled_client_kwargs({})["transport"]
        expected = _aiohttp_choice(url)
        for _ in range(2):  # the second answer comes from the memo
            assert transport._proxy_for(url) == expected
    finally:
        for name in env:
            os.environ.pop(name, None)
        os.environ.update({name: value for name, value in saved.items() if value is not None})


def test_the_async_client_still_goes_through_a_proxy_from_the_environment(
    azurite: StorageEndpoint, monkeypatch: pytest.MonkeyPatch, clean_proxy_env: None
) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the "proxy" refuses
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{dead}")

    async def task_ids() -> list[str]:
        async with aio.JobOutputStorage.from_connection_string(
            azurite.connection_string, "j-proxy", retry_total=0, **azurite.client_kwargs
        ) as job:
            return [task_id async for task_id in job.task_ids()]

    with pytest.raises(StorageError):
        asyncio.run(task_ids())  # went to the dead proxy, not to Azurite
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with pytest.raises(ContainerNotFoundError):
        asyncio.run(task_ids())  # reached Azurite: the job has no container

"""``conventions.environment``: the ``from_environment`` table as a pure decision, without
I/O (spec/vectors/environment.json, and properties over any environment)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions import errors
from conventions.containers import container_name
from conventions.environment import (
    ACCOUNT_URL_ENV,
    CLIENT_ID_ENV,
    CONNECTION_STRING_ENV,
    CONTAINER_URL_ENV,
    JOB_ID_ENV,
    TASK_ID_ENV,
    read_environment,
)

from .strategies import job_ids, task_ids
from .vectors import cases

SOURCES = [CONTAINER_URL_ENV, CONNECTION_STRING_ENV, ACCOUNT_URL_ENV]


@pytest.mark.parametrize("case", cases("environment.json"))
def test_environment_vectors(case: dict[str, Any]) -> None:
    def read() -> Any:
        return read_environment(
            case["environ"], task=case["task"], allow_other_container=case["allow_other_container"]
        )

    if "raises" in case:
        with pytest.raises(getattr(errors, case["raises"])) as raised:
            read()
        if "missing" in case:
            assert raised.value.name == case["missing"]
            assert case["missing"] in str(raised.value)
        return
    env = read()
    expected = case["expected"]
    assert (env.job_id, env.task_id) == (expected["job_id"], expected["task_id"])
    source = env.source
    assert source.variable == expected["variable"]
    assert source.value == case["environ"][expected["variable"]]
    assert source.container == expected["container"]
    assert source.required_job == expected["required_job"]
    assert source.client_id == expected["client_id"]


def test_no_container_names_all_three_variables() -> None:
    with pytest.raises(errors.MissingEnvironmentVariableError) as raised:
        read_environment({JOB_ID_ENV: "j"}, task=False)
    for name in [*SOURCES, CLIENT_ID_ENV]:
        assert name in str(raised.value)


# Each container variable absent, empty or set; AZURE_CLIENT_ID likewise.
_maybe = st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=20))


@given(
    job_id=job_ids(),
    task_id=task_ids(),
    values=st.lists(_maybe, min_size=3, max_size=3),
    client_id=_maybe,
    task=st.booleans(),
    allow=st.booleans(),
)
def test_the_first_set_variable_wins(
    job_id: str,
    task_id: str,
    values: list[str | None],
    client_id: str | None,
    task: bool,
    allow: bool,
) -> None:
    environ = {JOB_ID_ENV: job_id, TASK_ID_ENV: task_id}
    pairs = list(zip(SOURCES, values, strict=True))
    environ.update({name: value for name, value in pairs if value is not None})
    if client_id is not None:
        environ[CLIENT_ID_ENV] = client_id
    winners = [name for name, value in pairs if value]
    if not winners:
        with pytest.raises(errors.MissingEnvironmentVariableError) as raised:
            read_environment(environ, task=task, allow_other_container=allow)
        assert raised.value.name == CONTAINER_URL_ENV
        return
    env = read_environment(environ, task=task, allow_other_container=allow)
    assert env.job_id == job_id
    assert env.task_id == (task_id if task else None)
    source = env.source
    assert source.variable == winners[0]
    assert source.value == environ[winners[0]]
    assert source.container == container_name(job_id)
    # Only a container URL names its own container, so only it is checked, unless allowed.
    url_checked = winners[0] == CONTAINER_URL_ENV and not allow
    assert source.required_job == (job_id if url_checked else None)
    # The identity matters only for the account URL; an empty id means the default chain.
    uses_identity = winners[0] == ACCOUNT_URL_ENV and bool(client_id)
    assert source.client_id == (client_id if uses_identity else None)
    # The value may hold a SAS or an account key: never in a repr.
    assert "value=" not in repr(source)


@given(job_id=job_ids(), task_id=task_ids(), missing=st.sampled_from([JOB_ID_ENV, TASK_ID_ENV]))
def test_ids_are_read_before_the_container(job_id: str, task_id: str, missing: str) -> None:
    environ = {JOB_ID_ENV: job_id, TASK_ID_ENV: task_id, CONNECTION_STRING_ENV: "AccountName=a"}
    environ[missing] = ""
    with pytest.raises(errors.MissingEnvironmentVariableError) as raised:
        read_environment(environ, task=True)
    assert raised.value.name == missing
    # A job storage needs no task ID.
    if missing == TASK_ID_ENV:
        assert read_environment(environ, task=False).task_id is None

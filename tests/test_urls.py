"""redact_sas hides every SAS signature and nothing else."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from conventions.urls import redact_sas

_TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "%+/=", min_size=1)


@given(_TOKEN, st.sampled_from(["sig", "SIG", "Sig"]), st.sampled_from(["", "&se=2030", "#f"]))
def test_signature_never_survives(signature: str, field: str, tail: str) -> None:
    url = f"https://acct.blob.core.windows.net/job-x?sv=2023&sp=racwl&{field}={signature}{tail}"
    assert redact_sas(url) == (
        f"https://acct.blob.core.windows.net/job-x?sv=2023&sp=racwl&{field}=REDACTED{tail}"
    )


@given(st.text(alphabet=st.characters(exclude_characters="="), max_size=50))
def test_text_without_a_signature_is_unchanged(text: str) -> None:
    assert redact_sas(text) == text


def test_signature_inside_an_error_message() -> None:
    message = "Server failed for 'https://h/c/b?sp=r&sig=SECRET': 403"
    assert redact_sas(message) == "Server failed for 'https://h/c/b?sp=r&sig=REDACTED': 403"

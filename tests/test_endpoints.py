"""``conventions.endpoints``: the checks of a client's URL or connection string, pure
(no client is built; tests/test_bad_inputs.py covers them through the constructors)."""

from __future__ import annotations

import base64
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.endpoints import (
    check_connection_string,
    check_endpoint,
    connection_string_fields,
)
from conventions.errors import InvalidSettingError

_hosts = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,3}", fullmatch=True)
_containers = st.from_regex(r"[a-z0-9][a-z0-9-]{2,20}", fullmatch=True)
_ports = st.one_of(st.just(""), st.integers(1, 65535).map(lambda port: f":{port}"))
_sigs = st.text(alphabet=string.ascii_letters + string.digits + "%+/=", min_size=8, max_size=40)


@given(
    scheme=st.sampled_from(["http", "https", "HTTPS"]),
    host=_hosts,
    port=_ports,
    container=st.one_of(st.just(""), _containers),
    sig=_sigs,
)
def test_http_urls_with_a_host_pass_and_need_a_container_only_when_asked(
    scheme: str, host: str, port: str, container: str, sig: str
) -> None:
    url = f"{scheme}://{host}{port}/{container}?sv=1&sig=SIG{sig}"
    check_endpoint(url, "account url", needs_container=False)
    if container:
        check_endpoint(url, "container url", needs_container=True)
        return
    with pytest.raises(InvalidSettingError, match="names no container") as raised:
        check_endpoint(url, "container url", needs_container=True)
    assert f"SIG{sig}" not in str(raised.value)  # never a signature in a message


@given(
    scheme=st.sampled_from(["ftp", "file", "", "javascript", "blob"]),
    host=_hosts,
    container=_containers,
    sig=_sigs,
)
def test_other_schemes_are_refused_without_the_signature(
    scheme: str, host: str, container: str, sig: str
) -> None:
    url = f"{scheme}://{host}/{container}?sig=SIG{sig}" if scheme else f"{host}/{container}"
    with pytest.raises(InvalidSettingError, match="absolute http:// or https:// URL") as raised:
        check_endpoint(url, "container url", needs_container=True)
    assert f"SIG{sig}" not in str(raised.value)


@pytest.mark.parametrize("port", [":0x1", ":99999", ":-1"])
def test_a_port_out_of_range_is_refused(port: str) -> None:
    with pytest.raises(InvalidSettingError):
        check_endpoint(f"https://host{port}/c", "container url", needs_container=True)


_names = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)
_values = st.text(alphabet=string.ascii_letters + string.digits + "+/=:.-", max_size=20)


@given(fields=st.dictionaries(_names.map(str.lower), _values, max_size=6), data=st.data())
def test_connection_string_fields_read_back(fields: dict[str, str], data: st.DataObject) -> None:
    # Any case for the names, spaces around, empty parts: the same fields.
    parts = [f" {data.draw(st.sampled_from([n, n.upper()]))} = {v} " for n, v in fields.items()]
    text = ";".join(parts + data.draw(st.lists(st.just(""), max_size=2)))
    assert connection_string_fields(text) == {name: value.strip() for name, value in fields.items()}


_b64 = st.binary(min_size=6, max_size=48).map(lambda b: base64.b64encode(b).decode())


@given(
    key=st.one_of(_b64, _values.map(lambda v: v + "!")),
    account=st.booleans(),
    endpoint=st.sampled_from([None, "http://127.0.0.1:10000/a", "ftp://h/a", "nonsense"]),
    protocol=st.sampled_from([None, "https", "http", "ftp"]),
    sas=st.booleans(),
    with_key=st.booleans(),
)
def test_connection_strings_are_checked_without_showing_a_secret(
    key: str,
    account: bool,
    endpoint: str | None,
    protocol: str | None,
    sas: bool,
    with_key: bool,
) -> None:
    secret = "SECRET" + key
    parts = []
    if protocol is not None:
        parts.append(f"DefaultEndpointsProtocol={protocol}")
    if account:
        parts.append("AccountName=acct")
    if with_key:
        parts.append(f"AccountKey={secret if key.endswith('!') else key}")
    if sas:
        parts.append(f"SharedAccessSignature=sv=1&sig={secret}")
    if endpoint is not None:
        parts.append(f"BlobEndpoint={endpoint}")
    valid = (
        (account or endpoint is not None)
        and protocol in (None, "https", "http")
        and endpoint in (None, "http://127.0.0.1:10000/a")
        and (not with_key or not key.endswith("!"))
        and (with_key or sas)
    )
    if valid:
        check_connection_string(";".join(parts))
        return
    with pytest.raises(InvalidSettingError) as raised:
        check_connection_string(";".join(parts))
    assert "SECRET" not in str(raised.value)  # shown by its field names only

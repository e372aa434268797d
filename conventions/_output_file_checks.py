"""The field checks of an OutputFile (rules OF-1 to OF-7): pattern, container URL and its
SAS, identity, path and upload headers. Pure: stdlib and the pure rule modules only;
``conventions.output_files`` builds its value type on them.

>>> has_wildcard("results/*.csv"), has_wildcard("results/summary.csv")
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

from .blobs import MAX_BLOB_NAME_LENGTH, MAX_BLOB_NAME_SEGMENTS
from .errors import InvalidOutputFileError, InvalidPathError
from .paths import destination_path
from .urls import redact_sas, redact_value

__all__ = [
    "Header",
    "check_container_url",
    "check_headers",
    "check_identity",
    "check_path",
    "check_pattern",
    "has_wildcard",
    "redacted_repr",
    "sas_fields",
    "to_headers",
]

_WILDCARD_CHARS = frozenset("*?[")
# The service substitutes a user-assigned identity for the SAS; Batch asks for the ARM
# resource ID of a user-assigned managed identity. Case-insensitive like ARM itself.
_ARM_IDENTITY = re.compile(
    r"/subscriptions/[^/\s]+/resourceGroups/[^/\s]+/providers/"
    r"Microsoft\.ManagedIdentity/userAssignedIdentities/[^/\s]+",
    re.ASCII | re.IGNORECASE,
)
# RFC 9110 token: the characters an HTTP header name may hold.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_wildcard(file_pattern: str) -> bool:
    """Tell whether *file_pattern* holds a wildcard: ``*``, ``**``, ``?`` or ``[...]`` (rule OF-5).

    .NET's Azure-Samples helper looks only for ``*``; ``?`` and brackets are wildcards to
    the service too (decision D-11).

    >>> has_wildcard("../std*.txt"), has_wildcard("out/?.csv"), has_wildcard("out/x.csv")
    (True, True, False)

    Raises:
        TypeError: *file_pattern* is not a ``str``.
    """
    if not isinstance(file_pattern, str):
        raise TypeError(f"file_pattern must be a str, not {type(file_pattern).__name__}")
    return any(char in _WILDCARD_CHARS for char in file_pattern)


def check_pattern(_instance: object, _attribute: object, pattern: str) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise InvalidOutputFileError(
            pattern, "must be a non-empty string (rule OF-1)", subject="file pattern"
        )
    if _CONTROL.search(pattern):
        raise InvalidOutputFileError(
            pattern, "must not contain control characters (rule OF-1)", subject="file pattern"
        )
    for segment in pattern.split("/"):
        if _unclosed_bracket(segment):
            raise InvalidOutputFileError(
                pattern,
                "has a '[' that no ']' closes in the same directory level; write '[[]' "
                "to match a literal '[' (rule OF-1)",
                subject="file pattern",
            )


def _unclosed_bracket(segment: str) -> bool:
    """Tell whether *segment* has a ``[`` that starts no complete ``[...]`` set.

    Same scan as :func:`fnmatch.translate`: after ``[`` an optional ``!``, then a ``]``
    right there is a member, and the set ends at the next ``]``.
    """
    i, n = 0, len(segment)
    while i < n:
        if segment[i] == "[":
            j = i + 1
            if j < n and segment[j] == "!":
                j += 1
            if j < n and segment[j] == "]":
                j += 1
            while j < n and segment[j] != "]":
                j += 1
            if j >= n:
                return True
            i = j
        i += 1
    return False


def check_container_url(_instance: object, _attribute: object, url: str) -> None:
    if not isinstance(url, str):
        raise InvalidOutputFileError(
            redact_value(url),
            "must be an absolute http(s) URL (rule OF-2)",
            subject="container url",
        )
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or _CONTROL.search(url) or " " in url:
        raise InvalidOutputFileError(
            redact_sas(url), "must be an absolute http(s) URL (rule OF-2)", subject="container url"
        )


def redacted_repr(url: str) -> str:
    return repr(redact_sas(url))


def sas_fields(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def check_identity(_instance: object, _attribute: object, identity: str | None) -> None:
    if identity is None:
        return
    if not isinstance(identity, str) or not _ARM_IDENTITY.fullmatch(identity):
        raise InvalidOutputFileError(
            identity,
            "must be the ARM resource ID of a user-assigned managed identity, "
            "'/subscriptions/<id>/resourceGroups/<group>/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/<name>' (rule OF-4)",
            subject="identity",
        )


def check_path(_instance: object, _attribute: object, path: str | None) -> None:
    if path is None:
        return
    rule = "must be a blob name or folder in normal form, without '..' or wildcards (rule OF-5)"
    if not isinstance(path, str) or has_wildcard(path):
        raise InvalidOutputFileError(path, rule, subject="path")
    try:
        normal = destination_path(path)
    except InvalidPathError:
        raise InvalidOutputFileError(path, rule, subject="path") from None
    if normal != path:
        raise InvalidOutputFileError(path, rule, subject="path")
    # The service would build the blob name and Azure refuse it at upload (decision D-18).
    if len(path) > MAX_BLOB_NAME_LENGTH:
        raise InvalidOutputFileError(
            path, f"has {len(path)} characters; a blob name has at most 1024 (rule BN-2)",
            subject="path",
        )
    segments = path.count("/") + 1
    if segments > MAX_BLOB_NAME_SEGMENTS:
        raise InvalidOutputFileError(
            path, f"has {segments} segments; a blob name has at most 254 (rule BN-2)",
            subject="path",
        )


Header = tuple[str, str | None]

_PAIR_RULE = (
    "must be a (name, value) pair: an HTTP header name and a value that is absent or "
    "a string without control characters (rule OF-7)"
)


def to_headers(headers: Mapping[str, str | None] | Iterable[Header] | None) -> tuple[Header, ...]:
    if headers is None:
        return ()
    rule = "must be (name, value) pairs or a mapping of names to values (rule OF-7)"
    if isinstance(headers, (str, bytes)):
        raise InvalidOutputFileError(headers, rule, subject="upload headers")
    try:
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers)
    except TypeError:
        raise InvalidOutputFileError(headers, rule, subject="upload headers") from None
    result: list[Header] = []
    for pair in pairs:
        # A str of two characters would unpack into a "pair"; only a real pair will do.
        if isinstance(pair, (str, bytes)):
            raise InvalidOutputFileError(pair, _PAIR_RULE, subject="upload header")
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise InvalidOutputFileError(pair, _PAIR_RULE, subject="upload header") from None
        result.append((name, value))
    return tuple(result)


def check_headers(_instance: object, _attribute: object, headers: tuple[Header, ...]) -> None:
    for name, value in headers:
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidOutputFileError(
                name, "must be an HTTP header name (rule OF-7)", subject="upload header"
            )
        if value is not None and (not isinstance(value, str) or _CONTROL.search(value)):
            raise InvalidOutputFileError(
                value,
                f"of header {name!r} must be a string without control characters (rule OF-7)",
                subject="upload header value",
            )

"""Properties of OutputFile lists and the planner (rules OF-1 to OF-9), with Hypothesis."""

from __future__ import annotations

import fnmatch
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from conventions import (
    InvalidOutputFileError,
    JobOutputKind,
    NoMatchingFilesError,
    OutputFile,
    TaskOutputKind,
    UploadCondition,
    destination_path,
    has_wildcard,
    job_output_file,
    job_prefix,
    parse_blob_name,
    plan_uploads,
    task_output_file,
    task_prefix,
)

from .strategies import job_kinds, relative_paths, task_ids, task_kinds

SIG_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%+/="
SECRET = "S3CRETsig"


@st.composite
def sas_urls(draw: st.DrawFn) -> str:
    """Container URLs with a SAS that grants write; the signature always holds SECRET."""
    account = draw(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=3, max_size=24)
    )
    letters = draw(st.lists(st.sampled_from("racdl"), unique=True, max_size=5))
    permissions = "".join(sorted([*letters, "w"], key="racwdl".index))
    signature = draw(st.text(alphabet=SIG_CHARS, max_size=20))
    return (
        f"https://{account}.blob.core.windows.net/job-abc"
        f"?sv=2023-11-03&sp={permissions}&sig={SECRET}{signature}"
    )


def plain_patterns() -> st.SearchStrategy[str]:
    """Patterns without wildcard: messy relative paths (rule DP-1) without '*', '?', '['."""
    return relative_paths().filter(lambda p: not has_wildcard(p))


_PATTERN_SEGMENTS = ["*", "**", "?", "a", "b", "d", "*.txt", "[ab]*", "[!a]*", ".*", "x.*", "?.csv"]


@st.composite
def wildcard_patterns(draw: st.DrawFn) -> str:
    """Patterns with at least one wildcard, optionally climbing out of the working dir."""
    segments = draw(st.lists(st.sampled_from(_PATTERN_SEGMENTS), min_size=1, max_size=3))
    if not any(has_wildcard(segment) for segment in segments):
        segments.append(draw(st.sampled_from(["*", "**", "*.txt"])))
    return ("../" if draw(st.booleans()) else "") + "/".join(segments)


conditions = st.sampled_from(list(UploadCondition))


@given(sas_urls(), task_ids(), task_kinds(), st.one_of(plain_patterns(), wildcard_patterns()))
@example(
    "https://a.blob.core.windows.net/c?sp=w&sig=S3CRETsig", "t1", TaskOutputKind.TASK_LOG, "../x"
)
def test_task_path_is_under_the_kinds_prefix(
    url: str, task_id: str, kind: TaskOutputKind, pattern: str
) -> None:
    output_file = task_output_file(url, task_id, kind, pattern)
    prefix = task_prefix(task_id, kind)
    assert output_file.path is not None
    if has_wildcard(pattern):
        assert output_file.path == prefix
    else:
        assert output_file.path == f"{prefix}/{destination_path(pattern)}"
        location = parse_blob_name(output_file.path)
        assert (location.task_id, location.kind) == (task_id, kind)
    assert ".." not in output_file.path.split("/")
    assert not has_wildcard(output_file.path)


@given(sas_urls(), job_kinds(), st.one_of(plain_patterns(), wildcard_patterns()))
def test_job_path_is_under_the_kinds_prefix(url: str, kind: JobOutputKind, pattern: str) -> None:
    output_file = job_output_file(url, kind, pattern)
    assert output_file.path is not None
    assert output_file.path == job_prefix(kind) or output_file.path.startswith(
        job_prefix(kind) + "/"
    )
    if not has_wildcard(pattern):
        location = parse_blob_name(output_file.path)
        assert (location.task_id, location.kind) == (None, kind)


identities = st.one_of(
    st.none(),
    st.builds(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/"
        "userAssignedIdentities/{}".format,
        st.uuids().map(str),
        task_ids(),
        task_ids(),
    ),
)
headers = st.lists(
    st.tuples(
        st.sampled_from(["x-ms-blob-content-type", "x-ms-meta-run", "Content-Encoding"]),
        st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126))),
    ),
    max_size=3,
)


@given(
    sas_urls(),
    task_ids(),
    task_kinds(),
    st.one_of(plain_patterns(), wildcard_patterns()),
    conditions,
    identities,
    headers,
    st.sampled_from([str.lower, str.upper, str.title, lambda s: s]),
)
def test_dict_round_trip_is_json_and_hides_the_signature(
    url: str,
    task_id: str,
    kind: TaskOutputKind,
    pattern: str,
    condition: UploadCondition,
    identity: str | None,
    header_pairs: list[tuple[str, str | None]],
    casing: object,
) -> None:
    output_file = task_output_file(
        url, task_id, kind, pattern, condition=condition, identity=identity, headers=header_pairs
    )
    as_dict = output_file.to_dict()
    assert OutputFile.from_dict(as_dict) == output_file
    assert OutputFile.from_dict(json.loads(json.dumps(as_dict))) == output_file
    # The service may answer with another casing of the condition.
    assert callable(casing)
    as_dict["uploadOptions"]["uploadCondition"] = casing(condition.value)
    assert OutputFile.from_dict(as_dict) == output_file
    assert SECRET not in repr(output_file)
    assert SECRET not in str(output_file)


# -- Planner ---------------------------------------------------------------------------------

_TREE_SEGMENTS = ["a", "b", "d", ".h", "ab", "x.txt", "y.csv", ".z.txt", "A.TXT", "1.csv"]
tree_files = st.lists(
    st.lists(st.sampled_from(_TREE_SEGMENTS), min_size=1, max_size=3).map("/".join),
    min_size=1,
    max_size=12,
)


def _make_tree(task_dir: Path, files: list[str]) -> list[str]:
    """Create *files* under ``task_dir/wd``, and the std files; return the files made."""
    made = ["stdout.txt", "stderr.txt"]
    for name in made:
        (task_dir / name).write_text(name)
    (task_dir / "wd").mkdir()
    for name in files:
        path = task_dir / "wd" / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                continue
            path.write_text(name)
        except (FileExistsError, NotADirectoryError):
            continue  # a file where the tree wants a directory, or the reverse
        made.append(f"wd/{name}")
    return made


def _segment_matches(pattern: str, name: str) -> bool:
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def _matches(patterns: list[str], names: list[str]) -> bool:
    """An oracle written apart from the planner (which uses glob): segment by segment."""
    if not patterns:
        return not names
    head, rest = patterns[0], patterns[1:]
    if head == "**":
        if not rest:
            return bool(names) and not any(name.startswith(".") for name in names)
        for i in range(len(names)):
            if _matches(rest, names[i:]):
                return True
            if names[i].startswith("."):
                return False
        return False
    return bool(names) and _segment_matches(head, names[0]) and _matches(rest, names[1:])


def _oracle(pattern: str, files: list[str]) -> set[tuple[str, str]]:
    segments = pattern.split("/")
    base = ["wd"]
    while len(segments) > 1 and not has_wildcard(segments[0]):
        head = segments.pop(0)
        base = base[:-1] if head == ".." else [*base, head]
    found = set()
    for name in files:
        parts = name.split("/")
        if parts[: len(base)] == base and _matches(segments, parts[len(base) :]):
            found.add((name, "/".join(parts[len(base) :])))
    return found


@given(task_ids(), task_kinds(), wildcard_patterns(), tree_files, st.integers(-2, 2), conditions)
@example(
    "t1",
    TaskOutputKind.TASK_OUTPUT,
    "**/*.txt",
    [".h/x.txt", "a/x.txt", "x.txt"],
    0,
    UploadCondition.TASK_SUCCESS,
)
@example("t1", TaskOutputKind.TASK_LOG, "../*", ["a"], 1, UploadCondition.TASK_COMPLETION)
def test_planner_uploads_exactly_the_matching_files(
    task_id: str,
    kind: TaskOutputKind,
    pattern: str,
    files: list[str],
    exit_code: int,
    condition: UploadCondition,
) -> None:
    url = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"
    output_file = task_output_file(url, task_id, kind, pattern, condition=condition)
    with tempfile.TemporaryDirectory() as directory:
        task_dir = Path(directory)
        made = _make_tree(task_dir, files)
        plan = plan_uploads([output_file], task_dir / "wd", exit_code=exit_code, allow_empty=True)
        if condition.applies(exit_code=exit_code) and not plan:
            # Without allow_empty, a plan that matched nothing is an error (D-92).
            with pytest.raises(NoMatchingFilesError, match=re.escape(repr(pattern))):
                plan_uploads([output_file], task_dir / "wd", exit_code=exit_code)
        else:
            assert plan_uploads([output_file], task_dir / "wd", exit_code=exit_code) == plan
        got = {
            (upload.local_path.relative_to(task_dir).as_posix(), upload.blob_name)
            for upload in plan
        }
        assert len(got) == len(plan)
    if not condition.applies(exit_code=exit_code):
        assert plan == []
        return
    prefix = task_prefix(task_id, kind)
    assert got == {(name, f"{prefix}/{relative}") for name, relative in _oracle(pattern, made)}
    for upload in plan:
        location = parse_blob_name(upload.blob_name)
        assert (location.task_id, location.kind) == (task_id, kind)
        assert upload.output_file is output_file
        # Dotfiles: a name starting with '.' appears only where the pattern spells the dot.
        if not any(segment.startswith(".") and segment != ".." for segment in pattern.split("/")):
            assert not any(part.startswith(".") for part in location.path.split("/"))


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        (["ab"], "upload header 'ab'"),  # a two-character str would unpack into a "pair"
        ([5], "upload header 5"),
        ([("Content-Type",)], "upload header ('Content-Type',)"),
        (5, "upload headers 5"),
        ("ab", "upload headers 'ab'"),
    ],
)
def test_headers_that_are_not_pairs_break_rule_of7(headers: object, subject: str) -> None:
    url = "https://acct.blob.core.windows.net/job-abc?sp=cw&sig=x"
    with pytest.raises(InvalidOutputFileError, match="rule OF-7") as info:
        task_output_file(url, "t1", TaskOutputKind.TASK_OUTPUT, "x.txt", headers=headers)  # type: ignore[arg-type]
    assert str(info.value).startswith(subject + " must be ")

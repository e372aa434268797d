"""Hypothesis strategies for Batch IDs, kinds and paths, built constructively."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from conventions import JobOutputKind, TaskOutputKind

ID_CHARS = string.ascii_letters + string.digits + "-_"
LOWER_SAFE = string.ascii_lowercase + string.digits


def task_ids() -> st.SearchStrategy[str]:
    """Batch task IDs: 1-64 of letters, digits, '-' and '_'."""
    return st.text(alphabet=ID_CHARS, min_size=1, max_size=64)


def job_ids() -> st.SearchStrategy[str]:
    """Batch job IDs as .NET's BatchIdGenerator makes them (1-64, with ':'), plus
    longer schedule-made IDs ``<schedule>:<job>``."""
    plain = st.text(alphabet=ID_CHARS + ":", min_size=1, max_size=64)
    scheduled = st.builds(lambda s, j: f"{s}:{j}", task_ids(), task_ids())
    return st.one_of(plain, scheduled)


@st.composite
def container_safe_ids(draw: st.DrawFn) -> str:
    """IDs for which ``job-<id>`` is already a legal container name (.NET's
    BatchIdThatIsValidContainerName): alphanumeric ends, no '--', 3-59 long."""
    first = draw(st.sampled_from(LOWER_SAFE))
    last = draw(st.sampled_from(LOWER_SAFE))
    runs = draw(st.lists(st.text(alphabet=LOWER_SAFE, min_size=1, max_size=8), max_size=8))
    middle = "-".join(runs)
    if middle:
        middle = draw(st.sampled_from(["", "-"])) + middle + draw(st.sampled_from(["", "-"]))
    return (first + middle + last)[:58] + last


_STANDARD_KIND_TEXTS = {kind.text for kind in TaskOutputKind.standard()} | {
    kind.text for kind in JobOutputKind.standard()
}
_FOLDED_STANDARD_KIND_TEXTS = {text.lower() for text in _STANDARD_KIND_TEXTS}


def _near_a_standard_kind(folded: str) -> bool:
    """One insertion, deletion, replacement or neighbour swap from a standard kind (D-90)."""
    for standard in _FOLDED_STANDARD_KIND_TEXTS:
        for i in range(len(standard) + 1):
            if folded in (
                standard[:i] + standard[i + 1 :],
                standard[:i] + standard[i + 1 : i + 2] + standard[i : i + 1] + standard[i + 2 :],
            ):
                return True
            if len(folded) == len(standard) + 1 and folded[:i] + folded[i + 1 :] == standard:
                return True
            if len(folded) == len(standard) and folded[:i] + folded[i + 1 :] == (
                standard[:i] + standard[i + 1 :]
            ):
                return True
    return False


def kind_texts() -> st.SearchStrategy[str]:
    """Legal kind texts (rule KD-1): never a case variant of a standard kind (D-40), nor
    one typo away from one (D-90)."""
    return st.text(alphabet=ID_CHARS, min_size=1, max_size=64).filter(
        lambda text: (
            text in _STANDARD_KIND_TEXTS
            or (
                text.lower() not in _FOLDED_STANDARD_KIND_TEXTS
                and not _near_a_standard_kind(text.lower())
            )
        )
    )


def task_kinds() -> st.SearchStrategy[TaskOutputKind]:
    """Predefined task kinds first (they shrink best), then custom ones."""
    predefined = st.sampled_from(
        [
            TaskOutputKind.TASK_OUTPUT,
            TaskOutputKind.TASK_LOG,
            TaskOutputKind.TASK_PREVIEW,
            TaskOutputKind.TASK_INTERMEDIATE,
        ]
    )
    return st.one_of(predefined, kind_texts().map(TaskOutputKind.custom))


def job_kinds() -> st.SearchStrategy[JobOutputKind]:
    """Predefined job kinds first, then custom ones."""
    predefined = st.sampled_from([JobOutputKind.JOB_OUTPUT, JobOutputKind.JOB_PREVIEW])
    return st.one_of(predefined, kind_texts().map(JobOutputKind.custom))


# Any printable character except the separators and '.', which the segments
# strategy adds on purpose; includes '$', '%', '+', '#', spaces and non-ASCII.
_SEGMENT_CHARS = st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="/\\")


def segments() -> st.SearchStrategy[str]:
    """One normal path segment: never empty, '.', '..', never ending in '.'."""
    return st.text(alphabet=_SEGMENT_CHARS, min_size=1, max_size=12).filter(
        lambda s: s not in (".", "..") and not s.endswith(".") and not _looks_like_drive(s)
    )


def _looks_like_drive(segment: str) -> bool:
    return len(segment) >= 2 and segment[1] == ":" and segment[0] in string.ascii_letters


def normal_paths() -> st.SearchStrategy[str]:
    """Paths already in the form destination_path() gives."""
    return st.lists(segments(), min_size=1, max_size=6).map("/".join)


@st.composite
def relative_paths(draw: st.DrawFn) -> str:
    """Messy relative paths: leading '../', '.' segments, 'x/..' pairs, both separators."""
    parts: list[str] = draw(st.lists(st.sampled_from(["..", "."]), max_size=3))
    for segment in draw(st.lists(segments(), min_size=1, max_size=5)):
        padding = [[], ["."], ["junk", ".."]] + ([[""]] if parts else [])
        parts.extend(draw(st.sampled_from(padding)))
        parts.append(segment)
    separator = st.sampled_from(["/", "\\"])
    return "".join(part + draw(separator) for part in parts[:-1]) + parts[-1]

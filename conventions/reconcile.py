"""How a tracked save reconciles with its append blob after a failed or refused append.

A pure decision (no I/O), shared by the tracker (:mod:`conventions.tracked`) and its
async twin. After an append whose outcome is unknown (its response was lost, a gateway
answered 500 after it landed, or the service refused a later append with 412
``AppendPositionConditionNotMet``), the tracker reads the blob's real length and, if the
blob holds more than the tracker believes, the bytes past that offset; it reads the same
range of the local file, and asks :func:`reconcile` what to do (spec/README.md, "Tracked
save", "Reconcile")::

    >>> reconcile(believed=5, blob_length=8, blob_extra=b"abc", file_extra=b"abc",
    ...           block_size=4).action
    'advance'

- ``"advance"``: the blob holds our own earlier append: take ``uploaded`` as the new
  offset and append the rest of the file from there;
- ``"append"``: the blob holds exactly what we believe: append again from there;
- ``"conflict"``: the blob is not a prefix of the file (someone else wrote to it, it
  was replaced, or it holds more than one append of ours could have left): raise.
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["ReconcileDecision", "reconcile"]


@attrs.frozen
class ReconcileDecision:
    """What to do after reading the blob back; ``uploaded`` is the offset to go on from."""

    action: Literal["advance", "append", "conflict"]
    uploaded: int
    reason: str = ""


def reconcile(
    *, believed: int, blob_length: int, blob_extra: bytes, file_extra: bytes, block_size: int
) -> ReconcileDecision:
    """Decide from what the blob really holds.

    :param believed: bytes the tracker believes the blob holds (all equal to the file's).
    :param blob_length: the blob's real length.
    :param blob_extra: the blob's bytes ``[believed, blob_length)`` (empty if it is not
        longer; the caller need not read them when the decision can be made without).
    :param file_extra: the file's bytes over the same range (shorter if the file is).
    :param block_size: the largest append the tracker sends: at most one append of ours
        can be unaccounted for, so more extra bytes than that are not ours.
    """
    if blob_length < believed:
        return ReconcileDecision(
            "conflict",
            believed,
            f"the blob holds {blob_length} bytes, fewer than the {believed} uploaded: "
            "it was replaced or truncated by someone else",
        )
    if blob_length == believed:
        return ReconcileDecision("append", believed)
    extra = blob_length - believed
    if extra > block_size:
        return ReconcileDecision(
            "conflict",
            believed,
            f"the blob holds {blob_length} bytes, {extra} more than the {believed} uploaded, "
            f"more than one append of at most {block_size} bytes: someone else appended",
        )
    if len(blob_extra) != extra or blob_extra != file_extra:
        return ReconcileDecision(
            "conflict",
            believed,
            f"the blob holds {blob_length} bytes, and its bytes past the {believed} uploaded "
            "are not the file's: it was changed by someone else",
        )
    return ReconcileDecision("advance", blob_length)

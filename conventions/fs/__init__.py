"""A job's outputs where data tools read them: an fsspec filesystem (extra ``fsspec``).

Installed, the package registers the protocol ``batchconv`` (entry point ``fsspec.specs``),
so ``fsspec.open``, pandas, Dask, polars and xarray open ``batchconv://`` URLs::

    import dask.dataframe as dd
    frame = dd.read_csv(
        f"batchconv://{job_id}/*/$TaskOutput/*.csv",
        storage_options={"connection_string": connection_string},
    )

Paths are ``<job-id>/<task-id>/$<Kind>/<path>`` and ``<job-id>/$<JobKind>/<path>``
(spec/README.md, "Filesystem paths"). Read-only: writing raises :class:`ReadOnlyError`.
"""

from __future__ import annotations

from conventions.errors import MissingDependencyError

try:
    import fsspec  # noqa: F401
except ImportError as error:  # pragma: no cover - the extra is not installed
    raise MissingDependencyError(
        "conventions.fs needs fsspec: pip install 'batch-file-conventions[fsspec]'"
    ) from error

from ._filesystem import ConventionsFileSystem
from ._paths import PROTOCOL
from ._readonly import ReadOnlyError

__all__ = ["PROTOCOL", "ConventionsFileSystem", "ReadOnlyError"]

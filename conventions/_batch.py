"""azure-batch models from REST JSON, for both supported SDK lines (decision D-91).

The REST JSON is the common ground: azure-batch 15.x builds a model from it
(``OutputFile(d)``, ``as_dict()``), 14.x deserializes it (``OutputFile.deserialize(d)``,
``serialize()``). The two lines cannot share an environment, so the line is chosen by
what the installed package offers. ``azure.batch`` is imported inside the functions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed
from typing import TYPE_CHECKING, Any, cast

from .errors import MissingDependencyError

if TYPE_CHECKING:
    from azure.batch import models as batch_models

__all__ = ["SUPPORTED_LINES", "batch_models_module", "output_file_model"]

#: The lines served, and how to get one without breaking a pin (never just "upgrade").
SUPPORTED_LINES = (
    "azure-batch 14.x (>=14.2; e.g. where a pin says azure-batch<15, as Apache Airflow's "
    "does) and 15.x (>=15.1) are supported: install the line your other packages allow, "
    "pip install 'azure-batch>=14.2,<15' or pip install 'azure-batch>=15.1,<16'"
)


def installed_version() -> str | None:
    """The installed azure-batch version, or None."""
    try:
        return _installed("azure-batch")
    except PackageNotFoundError:
        return None


def batch_models_module(caller: str) -> tuple[Any, bool]:
    """Return ``azure.batch.models`` and whether it is the 15.x line (else 14.x).

    Raises:
        MissingDependencyError: azure-batch is missing, or offers neither line's models;
            the message names the version found and both supported lines.
    """
    try:
        from azure.batch import models
    except ImportError as error:
        found = installed_version()
        what = "none" if found is None else f"azure-batch {found}, which cannot be imported"
        raise MissingDependencyError(
            f"{caller} needs azure-batch, found {what}; {SUPPORTED_LINES}"
        ) from error
    if hasattr(models, "OutputFileUploadConfiguration"):
        return models, True
    if hasattr(models, "OutputFileUploadOptions") and hasattr(models.OutputFile, "deserialize"):
        return models, False
    raise MissingDependencyError(
        f"{caller} needs azure-batch 14.x or 15.x, found azure-batch "
        f"{installed_version() or '(version unknown)'}; {SUPPORTED_LINES}"
    )


def output_file_model(data: Mapping[str, Any], caller: str) -> batch_models.OutputFile:
    """Return the installed SDK's ``OutputFile`` for the REST JSON *data*.

    The model must give *data* back exactly, so an SDK that would drop a field (an
    identity, an upload header) raises instead of losing it.

    Raises:
        MissingDependencyError: as :func:`batch_models_module`, or the SDK cannot hold
            every field of *data*.
    """
    models, line_15 = batch_models_module(caller)
    if line_15:
        model = models.OutputFile(dict(data))
        back = model.as_dict()
    else:
        model = models.OutputFile.deserialize(dict(data))
        back = model.serialize()
    if back != data:
        lost = sorted(_flat_keys(data) - _flat_keys(back))
        raise MissingDependencyError(
            f"{caller}: azure-batch {installed_version() or '(version unknown)'} cannot hold "
            f"{', '.join(lost) or 'every value'} of this entry; {SUPPORTED_LINES}. "
            "to_dict() gives the REST JSON, which the Batch service takes from any client"
        )
    return cast("batch_models.OutputFile", model)


def _flat_keys(data: Mapping[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, Mapping):
            keys |= _flat_keys(value, f"{prefix}{key}.")
    return keys

"""dsvmpool: a shared pool of Azure Data Science VMs, described in one file.

Load a pool spec (TOML, YAML or JSON), validate it, see its plan and render it::

    import dsvmpool

    pool = dsvmpool.Pool.load("team.toml")   # or Pool.from_toml(text) / Pool.from_dict(d)
    warnings = pool.validate()               # raises dsvmpool.ValidationError with .errors
    plan = pool.plan()                       # displays as tables in Jupyter

Every failure raises a :class:`DsvmpoolError` subclass that also inherits the matching
builtin (``ValidationError`` is a ``ValueError``, ``NotFoundError`` a ``LookupError``, …).
"""

from __future__ import annotations

from ._native import Plan, Pool, __version__, json_schema
from ._types import (
    Addresses,
    Cost,
    CostAt,
    Diagnostic,
    DiagnosticJson,
    PlanDict,
    PlannedResource,
)
from .errors import (
    AuthError,
    AzureError,
    ConflictError,
    DsvmpoolError,
    InternalError,
    IoError,
    NotFoundError,
    RenderError,
    ThrottledError,
    ValidationError,
)

__all__ = [
    "Pool",
    "Plan",
    "Diagnostic",
    "DiagnosticJson",
    "PlannedResource",
    "Addresses",
    "Cost",
    "CostAt",
    "PlanDict",
    "json_schema",
    "DsvmpoolError",
    "ValidationError",
    "IoError",
    "RenderError",
    "AzureError",
    "NotFoundError",
    "ConflictError",
    "ThrottledError",
    "AuthError",
    "InternalError",
    "__version__",
]

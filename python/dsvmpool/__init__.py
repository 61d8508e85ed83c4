"""dsvmpool: a shared pool of Azure Data Science VMs, described in one file.

Load a pool spec (TOML, YAML or JSON), validate it, see its plan and render it::

    import dsvmpool

    pool = dsvmpool.Pool.load("team.toml")   # or Pool.from_toml(text) / Pool.from_dict(d)
    warnings = pool.validate()               # raises dsvmpool.ValidationError with .errors
    plan = pool.plan()                       # displays as tables in Jupyter
    art = pool.render()                      # ARM template, parameters, cloud-init; art.write("out/")
    trace = dsvmpool.Trace.generate(pool=pool, users=25)
    report = pool.simulate(trace)            # cost, waits, refused sessions; report.to_pandas()

Every failure raises a :class:`DsvmpoolError` subclass that also inherits the matching
builtin (``ValidationError`` is a ``ValueError``, ``NotFoundError`` a ``LookupError``, …).
"""

from __future__ import annotations

from ._native import (
    Artifacts,
    Plan,
    Pool,
    SimReport,
    Trace,
    __version__,
    comparison_table,
    json_schema,
    plot_svg,
    write_plot,
)
from ._types import (
    Addresses,
    ArtifactFile,
    DayStats,
    ResourceNames,
    SecureParameter,
    Session,
    TimelinePoint,
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
    "Artifacts",
    "Trace",
    "SimReport",
    "comparison_table",
    "plot_svg",
    "write_plot",
    "Diagnostic",
    "DiagnosticJson",
    "PlannedResource",
    "Addresses",
    "Cost",
    "CostAt",
    "PlanDict",
    "ArtifactFile",
    "SecureParameter",
    "ResourceNames",
    "Session",
    "DayStats",
    "TimelinePoint",
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

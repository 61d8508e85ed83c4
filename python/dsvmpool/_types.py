"""Typed shapes of the plain data dsvmpool returns (dicts, so they print, compare and
serialise as they are; the classes only exist for type checkers and documentation)."""

from __future__ import annotations

from typing import List, Literal, Optional, Tuple, TypedDict

__all__ = [
    "ArtifactFile",
    "SecureParameter",
    "ResourceNames",
    "Session",
    "DayStats",
    "TimelinePoint",
    "Diagnostic",
    "DiagnosticJson",
    "PlannedResource",
    "Addresses",
    "CostAt",
    "Cost",
    "PlanDict",
]


class Diagnostic(TypedDict):
    """One problem found in a pool spec: where, which rule, what is wrong, how to fix it."""

    #: ``error`` or ``warning``.
    severity: Literal["error", "warning"]
    #: Dotted field path, e.g. ``storage.share.name`` or ``users[3].uid``; empty for the whole
    #: document.
    path: str
    #: Stable identifier of the rule broken, e.g. ``share-name``.
    rule: str
    #: What is wrong, in one sentence.
    message: str
    #: How to fix it, when known.
    hint: Optional[str]


class _DiagnosticJsonAlways(TypedDict):
    severity: Literal["error", "warning"]
    path: str
    rule: str
    message: str


class DiagnosticJson(_DiagnosticJsonAlways, total=False):
    """A diagnostic as the core serialises it into JSON (``hint`` absent when there is none),
    as in ``Plan.to_dict()`` and the CLI's ``--output json``."""

    hint: str


class PlannedResource(TypedDict):
    """One resource of a plan."""

    #: ARM type, e.g. ``Microsoft.Compute/virtualMachineScaleSets``.
    type: str
    #: Resource name.
    name: str
    #: What happens to it.
    action: Literal["create", "use_existing", "modify", "no_change"]
    #: One line about it.
    detail: str


class _AddressesAlways(TypedDict):
    fqdn: str
    workspace: str
    notebooks: str


class Addresses(_AddressesAlways, total=False):
    """How users reach the pool (``jupyterhub_url``, ``ssh`` and ``instance_ssh_ports`` only
    when they apply)."""

    jupyterhub_url: str
    ssh: str
    instance_ssh_ports: str


class CostAt(TypedDict):
    """Cost at a given instance count (USD)."""

    instances: int
    hourly: float
    #: 730 hours.
    monthly: float


class Cost(TypedDict):
    """Compute cost estimate from the bundled list-price table (``None``: size not in it)."""

    size: str
    instance_hourly: Optional[float]
    currency: str
    price_region: str
    price_date: str
    #: Spot prices are estimates.
    estimated: bool
    at_min: Optional[CostAt]
    at_max: Optional[CostAt]
    #: Monthly floor the working-hours minimum imposes, if any.
    scheduled_floor_monthly: Optional[float]


class PlanDict(TypedDict):
    """``Plan.to_dict()``: the structure of ``dsvmpool plan --output json``."""

    pool: str
    location: str
    resource_group: str
    image: str
    capacity: Tuple[int, int, int]
    resources: List[PlannedResource]
    addresses: Addresses
    autoscale: List[str]
    cost: Cost
    warnings: List[DiagnosticJson]


class ArtifactFile(TypedDict):
    """One provisioning file of ``Artifacts``."""

    #: Path relative to the output directory, ``/``-separated.
    path: str
    #: What the file is for, in one line.
    description: str
    #: The content (never a secret).
    content: str


class SecureParameter(TypedDict):
    """A secure template parameter the deploy command fills from the environment."""

    #: Template parameter name.
    name: str
    #: Environment variable that holds the value when deploying.
    env: str


class ResourceNames(TypedDict):
    """The Azure resource names of a pool."""

    vnet: str
    subnet: str
    nsg: str
    public_ip: str
    load_balancer: str
    scale_set: str
    autoscale: str
    storage_account: Optional[str]
    share: Optional[str]
    deployment: str


class Session(TypedDict):
    """One session of a ``Trace``."""

    user: str
    #: Unix seconds.
    start: int
    #: Seconds.
    duration: int
    #: Share of one instance's CPU it keeps busy, 0-1.
    cpu: float


class DayStats(TypedDict):
    """One day (UTC) of a ``SimReport``."""

    date: str
    instance_hours: float
    cost: Optional[float]
    sessions: int
    refused: int
    killed: int


class TimelinePoint(TypedDict):
    """The pool at one moment of a ``SimReport``."""

    #: Unix seconds.
    time: int
    instances: int
    running: int
    active_sessions: int
    waiting: int
    active_users: int

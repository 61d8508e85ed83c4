"""Native core of the ``dsvmpool`` package (import ``dsvmpool``, not this module)."""

import os
from pathlib import Path
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Mapping, final

from dsvmpool._types import (
    Addresses,
    ArtifactFile,
    Cost,
    DayStats,
    Diagnostic,
    PlanDict,
    PlannedResource,
    ResourceNames,
    SecureParameter,
    Session,
    TimelinePoint,
)

_Policy = Literal["spec", "fixed", "cpu", "sessions"]
_Credential = Literal["auto", "env", "workload-identity", "managed-identity", "azure-cli"]

__all__ = [
    "__version__",
    "Pool",
    "Plan",
    "Artifacts",
    "Status",
    "LivePlan",
    "Trace",
    "SimReport",
    "json_schema",
    "comparison_table",
    "plot_svg",
    "write_plot",
]

__version__: str

def json_schema() -> str:
    """The JSON Schema of the pool spec, as JSON text (what `dsvmpool schema` prints)."""

@final
class Pool:
    """A parsed (not yet validated) pool spec, with where it came from.

    Create one with ``Pool.load(path)``, ``Pool.from_toml(text)``, ``Pool.from_yaml(text)``,
    ``Pool.from_json(text)`` or ``Pool.from_dict(mapping)``; then ``validate()`` it, ``plan()``
    it, ``render()`` it. Parse errors and invalid specs raise ``dsvmpool.ValidationError``
    with every problem and its field path.
    """

    @staticmethod
    def load(
        path: str | os.PathLike[str], format: Literal["toml", "yaml", "yml", "json"] | None = None
    ) -> Pool:
        """Load a spec file; the format comes from the extension (``.toml``, ``.yaml``/``.yml``,
        ``.json``) unless ``format`` (``"toml"``, ``"yaml"`` or ``"json"``) is given.

        Raises ``IoError`` (an ``OSError``) when the file cannot be read and
        ``ValidationError`` when it does not parse.
        """
    @staticmethod
    def parse(text: str, format: Literal["toml", "yaml", "yml", "json"]) -> Pool:
        """Parse a spec from text in ``format`` (``"toml"``, ``"yaml"`` or ``"json"``)."""
    @staticmethod
    def from_toml(text: str) -> Pool:
        """Parse TOML text."""
    @staticmethod
    def from_yaml(text: str) -> Pool:
        """Parse YAML text."""
    @staticmethod
    def from_json(text: str) -> Pool:
        """Parse JSON text."""
    @staticmethod
    def from_dict(spec: Mapping[str, Any]) -> Pool:
        """Build from an in-memory mapping shaped like the spec file (nested dicts, lists, str,
        int, float, bool). Raises ``TypeError`` for values JSON cannot hold.
        """
    @property
    def name(self) -> str:
        """Pool name, as written in the spec."""
    @property
    def source(self) -> Path | None:
        """The file it was loaded from, if any."""
    def to_dict(self) -> dict[str, Any]:
        """The parsed spec as a dict (defaults filled in; secrets are references, never values)."""
    def validate(self) -> list[Diagnostic]:
        """Validate: every problem at once. Returns the warnings (a list of ``Diagnostic`` dicts);
        raises ``ValidationError`` whose ``errors`` list every problem with its field path,
        rule, message and hint.
        """
    def render(
        self, *, generator_metadata: bool = True, force_update_tag: str | None = None
    ) -> Artifacts:
        """Render the deployment artifacts: ARM template, parameters file, provisioning files.
        Validates first. ``generator_metadata`` puts dsvmpool's name and version into the
        template; ``force_update_tag`` makes the instances run their extensions again.
        """
    def lint(self, *, boot_time: int | None = None) -> list[Diagnostic]:
        """What the autoscale settings will do that was probably not intended (flapping, scale
        from zero, profile windows, budget): the validation warnings, then the findings, as
        ``Diagnostic`` dicts. ``boot_time`` (seconds) defaults to 300 (600 for Windows).
        """
    def simulate(
        self,
        trace: Trace,
        policy: _Policy = "spec",
        *,
        eval_interval: int = ...,
        boot_time: int = ...,
        deallocate_time: int = ...,
        patience: int = ...,
        protect_busy: bool = ...,
        idle_cpu: float = ...,
        timeline_step: int = ...,
        start: int | None = ...,
        end: int | None = ...,
        session_target: int = ...,
        fixed_instances: int | None = ...,
    ) -> SimReport:
        """Simulate a scaling policy on a session trace: ``"spec"`` (this pool's autoscale, the
        default), ``"fixed"`` (always ``capacity.max``), ``"cpu"`` (plain CPU rules) or
        ``"sessions"``. Keyword options, durations in seconds: ``eval_interval`` (60),
        ``boot_time`` (300), ``deallocate_time`` (60), ``patience`` (900), ``protect_busy``
        (False), ``idle_cpu`` (0.02), ``timeline_step`` (3600), ``start``/``end`` (Unix seconds),
        ``session_target`` (4), ``fixed_instances``.
        """
    def compare(
        self,
        trace: Trace,
        policies: Sequence[_Policy] | None = None,
        *,
        eval_interval: int = ...,
        boot_time: int = ...,
        deallocate_time: int = ...,
        patience: int = ...,
        protect_busy: bool = ...,
        idle_cpu: float = ...,
        timeline_step: int = ...,
        start: int | None = ...,
        end: int | None = ...,
        session_target: int = ...,
        fixed_instances: int | None = ...,
    ) -> list[SimReport]:
        """Simulate several policies on the same trace (all four when ``policies`` is ``None``:
        fixed, cpu, spec, sessions); the options are ``simulate``'s. Compare the reports with
        ``dsvmpool.comparison_table(reports)``.
        """
    def plan(self) -> Plan:
        """The offline plan: every resource the pool will have, the addresses users will use,
        autoscale in words and the compute cost at min and max. Validates first.
        """
    def _repr_html_(self) -> str:
        """HTML summary table (Jupyter displays it)."""
    def deploy(
        self,
        *,
        force: bool = False,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """Deploy (or update) the pool: validate, render, ensure the resource group, preflight, create
        the deployment and follow it to the end. A rerun of an unchanged spec writes nothing;
        a rerun after an interruption follows the deployment already running. ``force`` deploys
        even when nothing changed (e.g. after changing a secret). Returns the outcome (a dict:
        ``action``, ``state``, ``outputs``, ``resources``, …).

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``deploy_sync`` is the blocking twin.
        """
    def deploy_sync(
        self,
        *,
        force: bool = False,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """The blocking twin of ``deploy`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """
    def status(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[Status]:
        """The live state: scale set, instances with power state and protection, autoscale setting,
        addresses (a ``Status``). Only reads.

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``status_sync`` is the blocking twin.
        """
    def status_sync(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Status:
        """The blocking twin of ``status`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """
    def scale(
        self,
        capacity: int,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """Set the pool's capacity to ``capacity`` instances (autoscale may move it again within its
        range). Returns the outcome (a dict).

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``scale_sync`` is the blocking twin.
        """
    def scale_sync(
        self,
        capacity: int,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """The blocking twin of ``scale`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """
    def publish_sessions(
        self,
        active: int,
        waiting: int = 0,
        at: int | None = None,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        metrics_url: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """Publish the session metrics ``autoscale.sessions`` scales on, for the minute ``at``
        (Unix seconds; default now) falls in: ``active + waiting`` sessions and ``waiting``
        sessions. Call it once a minute from whatever fronts the pool. The identity needs the
        *Monitoring Metrics Publisher* role on the scale set. Returns what was published (a
        dict). Connection keywords as for ``scale``, plus ``metrics_url`` (tests). Awaitable;
        ``publish_sessions_sync`` is the blocking twin.
        """
        ...
    def publish_sessions_sync(
        self,
        active: int,
        waiting: int = 0,
        at: int | None = None,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        metrics_url: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """The blocking twin of ``publish_sessions``."""
        ...
    def stop(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """Stop the pool: autoscale off, every instance deallocated (billing for compute stops).
        Returns the outcome (a dict).

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``stop_sync`` is the blocking twin.
        """
    def stop_sync(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """The blocking twin of ``stop`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """
    def start(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """Start the pool: every deallocated or stopped instance, then autoscale back on when the
        spec has it. Returns the outcome (a dict).

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``start_sync`` is the blocking twin.
        """
    def start_sync(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """The blocking twin of ``start`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """
    def destroy_preview(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """What ``destroy()`` would delete (a dict). Only reads.

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``destroy_preview_sync`` is the blocking twin.
        """
    def destroy_preview_sync(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """The blocking twin of ``destroy_preview`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """
    def destroy(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[dict[str, Any]]:
        """Delete the pool: the resource group when dsvmpool created it and holds nothing else,
        else the pool's resources. ``destroy_preview()`` says what goes. Returns the outcome.

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``destroy_sync`` is the blocking twin.
        """
    def destroy_sync(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> dict[str, Any]:
        """The blocking twin of ``destroy`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """
    def plan_live(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> Awaitable[LivePlan]:
        """Compare the spec with the live pool: the offline plan, what is deployed and the changes a
        deploy would make (a ``LivePlan``). Only reads.

        Connection keywords: ``credential`` (``"auto"``: environment, workload identity,
        managed identity, Azure CLI; or ``"env"``, ``"workload-identity"``,
        ``"managed-identity"``, ``"azure-cli"``), ``subscription_id`` (default: the spec's,
        else ``AZURE_SUBSCRIPTION_ID``), ``progress`` (called with each progress event as a
        dict), ``poll_interval`` (seconds). Awaitable; ``plan_live_sync`` is the blocking twin.
        """
    def plan_live_sync(
        self,
        *,
        credential: _Credential = "auto",
        subscription_id: str | None = None,
        progress: Callable[[dict[str, Any]], object] | None = None,
        poll_interval: float | None = None,
        management_url: str | None = None,
        authority_host: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> LivePlan:
        """The blocking twin of ``plan_live`` (the GIL is released while it waits; Ctrl-C
        interrupts it).
        """

@final
class Plan:
    """The plan of a pool: every resource it will have, the addresses users will use, autoscale
    behaviour in words and what it costs at min and max capacity.

    ``str(plan)`` is the text the CLI prints; in Jupyter it displays as tables;
    ``to_dict()`` is the same structure as ``dsvmpool plan --output json``.
    """

    @property
    def pool(self) -> str:
        """Pool name."""
    @property
    def location(self) -> str:
        """Region."""
    @property
    def resource_group(self) -> str:
        """Resource group."""
    @property
    def image(self) -> str:
        """Image URN (``publisher:offer:sku:version``)."""
    @property
    def capacity(self) -> tuple[int, int, int]:
        """Capacity ``(min, initial, max)``."""
    @property
    def resources(self) -> list[PlannedResource]:
        """Resources: dicts with ``type``, ``name``, ``action`` (``create``, ``use_existing``, or
        for a live plan ``modify`` or ``no_change``) and ``detail``.
        """
    @property
    def addresses(self) -> Addresses:
        """How users reach the pool: ``fqdn``, ``jupyterhub_url``, ``ssh``,
        ``instance_ssh_ports`` (absent when not applicable), ``workspace``, ``notebooks``.
        """
    @property
    def autoscale(self) -> list[str]:
        """Autoscale behaviour, one sentence per item."""
    @property
    def cost(self) -> Cost:
        """Compute cost estimate (USD list prices of the bundled table)."""
    @property
    def warnings(self) -> list[Diagnostic]:
        """Validation warnings (``Diagnostic`` dicts)."""
    def to_dict(self) -> PlanDict:
        """The whole plan as a dict: the structure of ``dsvmpool plan --output json``."""
    def _repr_html_(self) -> str:
        """HTML tables of resources, addresses, autoscale and cost (Jupyter displays them)."""

@final
class Artifacts:
    """Everything a pool renders to: the ARM template (``azuredeploy.json``), its parameters file
    (``azuredeploy.parameters.json``) and the provisioning files the instances run (cloud-init
    user data, scripts). Rendering is deterministic and holds no secret: secrets stay references
    (``secure_parameters`` lists the ones the deploy command fills from the environment).

    ``files`` maps each relative path to its content; ``write(dir)`` writes them all.
    """

    @property
    def template(self) -> dict[str, Any]:
        """The ARM template (``azuredeploy.json``) as a dict."""
    @property
    def parameters(self) -> dict[str, Any]:
        """The parameters file (``azuredeploy.parameters.json``) as a dict."""
    def template_json(self) -> str:
        """The template as pretty JSON text (what ``azuredeploy.json`` holds)."""
    def parameters_json(self) -> str:
        """The parameters file as pretty JSON text."""
    @property
    def user_data(self) -> str | None:
        """The cloud-init user data of Linux instances (``None`` for Windows pools)."""
    @property
    def files(self) -> dict[str, str]:
        """Every output file: relative path → content, template and parameters first."""
    @property
    def provisioning_files(self) -> list[ArtifactFile]:
        """The provisioning files alone: dicts with ``path``, ``description`` and ``content``."""
    @property
    def secure_parameters(self) -> list[SecureParameter]:
        """Secure parameters neither file holds: dicts with ``name`` (template parameter) and
        ``env`` (the environment variable the deploy command reads it from).
        """
    @property
    def names(self) -> ResourceNames:
        """The Azure resource names used."""
    def deploy_command(self, dir: str | os.PathLike[str]) -> str:
        """The Azure CLI command that deploys the files once written into ``dir`` (secure
        parameters filled from their environment variables, never a value)."""
    def write(self, dir: str | os.PathLike[str]) -> list[Path]:
        """Write every file into ``dir`` (created if missing); returns the paths written. Each file
        is staged under a temporary name and renamed once all are written, so a failure leaves
        no half-written set. Raises ``IoError`` (an ``OSError``).
        """
    def to_dict(self) -> dict[str, Any]:
        """Everything as one dict (template, parameters, user data, files, secure parameters,
        names).
        """
    def _repr_html_(self) -> str:
        """HTML table of the files and secure parameters (Jupyter displays it)."""

@final
class Trace:
    """A session trace: who asked for a session when, for how long, with how much CPU.

    Read one with ``Trace.load(path)`` (CSV ``user,start,duration,cpu`` or JSON), parse text with
    ``Trace.parse(text)``, or make a synthetic team's with ``Trace.generate(users=20, days=28)``.
    """

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Trace:
        """Read a trace file: CSV or JSON, told apart by the content."""
    @staticmethod
    def parse(text: str) -> Trace:
        """Parse CSV or JSON text, telling them apart by the first non-blank character."""
    @staticmethod
    def from_csv(text: str) -> Trace:
        """Parse CSV text (``user,start,duration,cpu``)."""
    @staticmethod
    def from_json(text: str) -> Trace:
        """Parse JSON text (a list of sessions, or ``{"sessions": [...]}``)."""
    @staticmethod
    def generate(
        pool: Pool | None = None,
        *,
        users: int = ...,
        time_zone: str = ...,
        start_date: str = ...,
        days: int = ...,
        work_days: Sequence[str] = ...,
        work_start: str = ...,
        work_end: str = ...,
        lunch_dip: float = ...,
        weekend_share: float = ...,
        long_job_share: float = ...,
        absence: float = ...,
        seed: int = ...,
    ) -> Trace:
        """Generate a synthetic team's trace. Keyword arguments set the team: ``users`` (20),
        ``days`` (28), ``start_date`` (``"2026-01-05"``), ``time_zone`` (the pool's working
        hours' zone when ``pool`` is given, else ``"UTC"``), ``work_days``, ``work_start``,
        ``work_end``, ``lunch_dip``, ``weekend_share``, ``long_job_share``, ``absence``,
        ``seed`` (1; the same seed gives the same trace).
        """
    @property
    def sessions(self) -> list[Session]:
        """The sessions by start: dicts with ``user``, ``start`` (Unix seconds), ``duration``
        (seconds) and ``cpu`` (share of one instance, 0-1).
        """
    @property
    def span(self) -> tuple[int, int] | None:
        """First start and last end (Unix seconds), or ``None`` for an empty trace."""
    def to_csv(self) -> str:
        """The trace as CSV (RFC 3339 UTC starts, whole seconds)."""
    def to_pandas(self) -> Any:
        """The sessions as a ``pandas.DataFrame`` (``start`` as UTC timestamps). Needs pandas."""
    def __len__(self) -> int:
        """Return len(self)."""

@final
class SimReport:
    """What simulating one autoscale policy on one trace gives: cost, instance hours, waits,
    refused and killed sessions, a timeline and daily figures.

    ``str(report)`` is the CLI's table; in Jupyter it displays as a table with plots;
    ``to_pandas()`` gives the timeline (or ``to_pandas("daily")`` the days) as a DataFrame.
    """

    @property
    def policy(self) -> str:
        """Policy name (``spec``, ``fixed``, ``cpu``, ``sessions``)."""
    @property
    def start(self) -> str:
        """Start (RFC 3339)."""
    @property
    def end(self) -> str:
        """End (RFC 3339)."""
    @property
    def days(self) -> float:
        """Days simulated."""
    @property
    def sessions(self) -> int:
        """Sessions that arrived."""
    @property
    def served(self) -> int:
        """Sessions that got an instance."""
    @property
    def waited(self) -> int:
        """Served sessions that had to wait."""
    @property
    def refused(self) -> int:
        """Sessions that gave up waiting."""
    @property
    def still_waiting(self) -> int:
        """Sessions still waiting at the end."""
    @property
    def killed(self) -> int:
        """Served sessions killed by a scale-in."""
    @property
    def affinity_moved(self) -> int:
        """Served sessions whose user was mapped to another instance while the session ran."""
    @property
    def wait_p50_s(self) -> float:
        """Median wait of served sessions (seconds)."""
    @property
    def wait_p95_s(self) -> float:
        """95th-percentile wait of served sessions (seconds)."""
    @property
    def wait_max_s(self) -> float:
        """Longest wait of a served session (seconds)."""
    @property
    def instance_hours(self) -> float:
        """Instance hours billed."""
    @property
    def peak_instances(self) -> int:
        """Most instances at once."""
    @property
    def hourly_price(self) -> float | None:
        """Price of one instance per hour (bundled table), if known."""
    @property
    def cost(self) -> float | None:
        """Compute cost, if the price is known."""
    @property
    def cost_per_month(self) -> float | None:
        """Compute cost per 30 days, if the price is known."""
    @property
    def currency(self) -> str:
        """Currency of the costs."""
    @property
    def scale_outs(self) -> int:
        """Scale-out actions."""
    @property
    def scale_ins(self) -> int:
        """Scale-in actions."""
    @property
    def refused_pct(self) -> float:
        """Share of arrived sessions refused, in percent."""
    @property
    def killed_pct(self) -> float:
        """Share of served sessions killed, in percent."""
    @property
    def warnings(self) -> list[str]:
        """What the simulation could not model."""
    @property
    def daily(self) -> list[DayStats]:
        """Per day (UTC): dicts with ``date``, ``instance_hours``, ``cost``, ``sessions``,
        ``refused``, ``killed``.
        """
    @property
    def timeline(self) -> list[TimelinePoint]:
        """The pool over time: dicts with ``time`` (Unix seconds), ``instances``, ``running``,
        ``active_sessions``, ``waiting``, ``active_users``.
        """
    def to_dict(self) -> dict[str, Any]:
        """The whole report as a dict: the structure of ``dsvmpool simulate --output json``."""
    def to_pandas(self, table: Literal["timeline", "daily"] = "timeline") -> Any:
        """The timeline (``table="timeline"``, indexed by UTC time) or the days
        (``table="daily"``, indexed by date) as a ``pandas.DataFrame``. Needs pandas.
        """
    def plot_svg(self) -> str:
        """The plots (instances and users over time, cost per day) as SVG text."""
    def _repr_html_(self) -> str:
        """HTML table of the figures and the plots (Jupyter displays them)."""

def comparison_table(reports: Sequence[SimReport]) -> str:
    """Several reports side by side as a text table (what ``dsvmpool simulate --compare`` prints)."""
def plot_svg(reports: Sequence[SimReport]) -> str:
    """Plots of several reports (instances and users over time, cost per day) as SVG text."""
def write_plot(path: str | os.PathLike[str], reports: Sequence[SimReport]) -> None:
    """Write the plots of several reports to ``path``: SVG for ``.svg``, PNG for ``.png``."""

@final
class Status:
    """The live state of a deployed pool: scale set, instances with power state and protection,
    autoscale setting, addresses.

    ``str(status)`` is the CLI's text; in Jupyter it displays as tables; ``to_dict()`` is the
    structure of ``dsvmpool status --output json``.
    """

    @property
    def pool(self) -> str:
        """Pool name."""
    @property
    def resource_group(self) -> str:
        """Resource group."""
    @property
    def deployed(self) -> bool:
        """Whether the scale set exists."""
    @property
    def stopped(self) -> bool:
        """Stopped by ``stop()``: autoscale off and no instance running."""
    @property
    def instances(self) -> list[dict[str, Any]]:
        """Instances: dicts with ``instance_id``, ``name``, ``computer_name``, ``power_state``,
        ``provisioning_state``, ``protect_from_scale_in``, ``protect_from_scale_set_actions``,
        ``latest_model_applied`` (keys absent when unknown).
        """
    @property
    def power(self) -> dict[str, int]:
        """Instances per power state, e.g. ``{"running": 2}``."""
    @property
    def scale_set(self) -> dict[str, Any] | None:
        """The scale set (``None`` when not deployed)."""
    @property
    def autoscale(self) -> dict[str, Any] | None:
        """The autoscale setting (``None`` when there is none)."""
    @property
    def addresses(self) -> dict[str, str]:
        """Addresses from the deployment outputs."""
    def to_dict(self) -> dict[str, Any]:
        """The whole status as a dict."""
    def _repr_html_(self) -> str:
        """HTML tables of the instances and addresses (Jupyter displays them)."""

@final
class LivePlan:
    """The plan against the live pool: the offline plan, what is deployed, and the changes a
    deploy would make (what-if).

    ``str(live_plan)`` is the CLI's text (``dsvmpool plan --live``); ``no_changes`` tells
    whether a deploy would change anything.
    """

    @property
    def plan(self) -> Plan:
        """The offline plan."""
    @property
    def live(self) -> dict[str, Any]:
        """What is deployed and how it differs (a dict)."""
    @property
    def no_changes(self) -> bool:
        """Whether a deploy would change nothing."""
    def to_dict(self) -> dict[str, Any]:
        """The whole plan as a dict: the structure of ``dsvmpool plan --live --output json``."""
    def _repr_html_(self) -> str:
        """The plan's text (Jupyter displays it)."""

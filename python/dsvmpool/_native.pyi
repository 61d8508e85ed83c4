"""Native core of the ``dsvmpool`` package (import ``dsvmpool``, not this module)."""

import os
from pathlib import Path
from typing import Any, Literal, Mapping, final

from dsvmpool._types import Addresses, Cost, Diagnostic, PlanDict, PlannedResource

__all__ = ["__version__", "Pool", "Plan", "json_schema"]

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
    def plan(self) -> Plan:
        """The offline plan: every resource the pool will have, the addresses users will use,
        autoscale in words and the compute cost at min and max. Validates first.
        """
    def _repr_html_(self) -> str:
        """HTML summary table (Jupyter displays it)."""

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
        """Resources: dicts with ``type``, ``name``, ``action`` (``create`` or ``use_existing``)
        and ``detail``.
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

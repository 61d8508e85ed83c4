"""Exceptions raised by dsvmpool.

Every failure is a :class:`DsvmpoolError`. Each subclass also inherits the matching builtin
exception, so ``except ValueError`` catches an invalid spec and ``except LookupError`` a
missing resource. ``kind`` is the stable error code of the core (``VALIDATION``,
``NOT_FOUND``, ``CONFLICT``, ``THROTTLED``, ``AUTH``, ``AZURE``, ``RENDER``, ``IO``,
``INTERNAL``), the same string the CLI prints with ``--output json`` and the Node binding
puts in ``error.code``. ``details`` holds the structured details of the error.

The exceptions pickle (``multiprocessing`` and ``concurrent.futures`` carry them across
processes with every attribute).
"""

from __future__ import annotations

from typing import Any, ClassVar, List, Mapping, Optional

from ._types import Diagnostic

__all__ = [
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
]


class DsvmpoolError(Exception):
    """Base class of every dsvmpool error.

    Attributes:
        message: The error message (also ``str(error)``).
        kind: Stable error code of the core (``VALIDATION``, ``NOT_FOUND``, …).
        details: Structured details (the same object the CLI prints with ``--output json``).
    """

    #: Stable error code of this class (``ErrorKind::code()`` in the core).
    KIND: ClassVar[str] = "INTERNAL"

    message: str
    kind: str
    details: dict[str, Any]

    def __init__(
        self,
        message: str,
        details: Optional[Mapping[str, Any]] = None,
        *,
        kind: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind if kind is not None else type(self).KIND
        self.details = dict(details) if details is not None else {}

    def __str__(self) -> str:
        return self.message


class ValidationError(DsvmpoolError, ValueError):
    """The pool spec is invalid.

    Attributes:
        errors: Every problem found, each a dict with ``path`` (dotted field path, e.g.
            ``storage.share.name``; empty for the whole document), ``rule`` (stable rule id),
            ``message``, ``hint`` (how to fix it, or ``None``) and ``severity``.
        warnings: Warnings found on the way (same shape).
    """

    KIND = "VALIDATION"

    errors: List[Diagnostic]
    warnings: List[Diagnostic]

    def __init__(
        self,
        message: str,
        details: Optional[Mapping[str, Any]] = None,
        *,
        kind: Optional[str] = None,
    ) -> None:
        super().__init__(message, details, kind=kind)
        self.errors = list(self.details.get("errors", []))
        self.warnings = list(self.details.get("warnings", []))

    @property
    def paths(self) -> List[str]:
        """The field paths of the errors, in order."""
        return [e["path"] for e in self.errors]


class IoError(DsvmpoolError, OSError):
    """A local file could not be read or written.

    Attributes:
        path: The file concerned.
    """

    KIND = "IO"

    path: Optional[str]

    def __init__(
        self,
        message: str,
        details: Optional[Mapping[str, Any]] = None,
        *,
        kind: Optional[str] = None,
    ) -> None:
        super().__init__(message, details, kind=kind)
        self.path = self.details.get("path")


class RenderError(DsvmpoolError, RuntimeError):
    """Rendering failed (an impossible combination the validator missed)."""

    KIND = "RENDER"


class InternalError(DsvmpoolError, RuntimeError):
    """A bug in dsvmpool; please report it."""

    KIND = "INTERNAL"


class AzureError(DsvmpoolError):
    """An Azure Resource Manager call failed.

    Attributes:
        status: HTTP status (``None`` when no response arrived).
        code: ARM error code, e.g. ``InvalidTemplate``.
        request_id: ``x-ms-request-id`` (or correlation id) of the failing response; quote it
            to Azure support.
        operation: What dsvmpool was doing, e.g. ``PUT deployment dsvmpool-team``.
    """

    KIND = "AZURE"

    status: Optional[int]
    code: Optional[str]
    request_id: Optional[str]
    operation: Optional[str]

    def __init__(
        self,
        message: str,
        details: Optional[Mapping[str, Any]] = None,
        *,
        kind: Optional[str] = None,
    ) -> None:
        super().__init__(message, details, kind=kind)
        self.status = self.details.get("status")
        self.code = self.details.get("code")
        self.request_id = self.details.get("request_id")
        self.operation = self.details.get("operation")


class NotFoundError(AzureError, LookupError):
    """A resource does not exist."""

    KIND = "NOT_FOUND"


class ConflictError(AzureError):
    """A concurrent change or a state conflict."""

    KIND = "CONFLICT"


class ThrottledError(AzureError):
    """Azure throttled the requests beyond the retry budget."""

    KIND = "THROTTLED"


class AuthError(AzureError, PermissionError):
    """Authentication or authorization failed."""

    KIND = "AUTH"

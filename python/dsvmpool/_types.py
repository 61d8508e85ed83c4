"""Typed shapes of the plain data dsvmpool returns."""

from __future__ import annotations

from typing import Literal, Optional, TypedDict

__all__ = ["Diagnostic"]


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

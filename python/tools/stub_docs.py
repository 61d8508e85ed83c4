"""Keep the docstrings of dsvmpool/_native.pyi equal to the native module's, which pyo3 takes
from the Rust `///` docs (so editors that read only the stub show the same help).

    python python/tools/stub_docs.py --write   # rewrite the stub's docstrings from the module
    python python/tools/stub_docs.py --check   # exit 1 when a docstring differs (CI)

Signatures stay hand-written in the stub; `mypy.stubtest` checks them against the module.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import sys
from pathlib import Path
from typing import List, Optional, Tuple, Union

STUB = Path(__file__).resolve().parents[1] / "dsvmpool" / "_native.pyi"
Def = Union[ast.FunctionDef, ast.ClassDef]


def runtime_doc(module: object, qualname: List[str]) -> Optional[str]:
    obj: object = module
    for part in qualname:
        obj = inspect.getattr_static(obj, part)
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None


def docstring_lines(doc: str, indent: str) -> List[str]:
    body = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').split("\n")
    if len(body) == 1:
        return [f'{indent}"""{body[0]}"""']
    rest = [f"{indent}{line}" if line else "" for line in body[1:]]
    return [f'{indent}"""{body[0]}', *rest, f'{indent}"""']


def edits(tree: ast.Module, module: object) -> List[Tuple[int, int, List[str], str]]:
    """(first line, last line, replacement lines, name) for each def whose docstring differs."""
    out: List[Tuple[int, int, List[str], str]] = []

    def visit(node: Def, path: List[str], indent: str) -> None:
        qual = path + [node.name]
        want = runtime_doc(module, qual)
        have = ast.get_docstring(node, clean=True)
        if want != have:
            first = node.body[0]
            inner = indent + "    "
            has_doc = (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            )
            if has_doc:
                end = first.end_lineno or first.lineno
                rest_is_doc_only = len(node.body) == 1
                lines = docstring_lines(want, inner) if want else ([f"{inner}..."] if rest_is_doc_only else [])
                out.append((first.lineno, end, lines, ".".join(qual)))
            elif want:
                # `def f(...) -> T: ...` on one line: split it and put the docstring in the body
                out.append((-first.lineno, first.lineno, docstring_lines(want, inner), ".".join(qual)))
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                    visit(child, qual, indent + "    ")

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            visit(node, [], "")
    return out


def apply(text: str, changes: List[Tuple[int, int, List[str], str]]) -> str:
    lines = text.split("\n")
    for start, end, new, _ in sorted(changes, key=lambda c: -abs(c[0])):
        if start < 0:  # one-line def ending in `: ...`
            i = -start - 1
            head = lines[i]
            assert head.rstrip().endswith(": ..."), head
            lines[i : i + 1] = [head.rstrip()[: -len(" ...")]] + new
        else:
            lines[start - 1 : end] = new
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    module = importlib.import_module("dsvmpool._native")
    text = STUB.read_text(encoding="utf-8")
    tree = ast.parse(text)
    changes = edits(tree, module)
    if ast.get_docstring(tree, clean=True) != runtime_doc(importlib.import_module("dsvmpool"), ["_native"]):
        changes.append((0, 0, [], "the module"))
    if args.check:
        for *_, name in changes:
            print(f"{STUB.name}: docstring of {name} differs from the native module's", file=sys.stderr)
        if changes:
            print("run: python python/tools/stub_docs.py --write", file=sys.stderr)
        return 1 if changes else 0
    if changes:
        STUB.write_text(apply(text, changes), encoding="utf-8")
        print(f"updated {len(changes)} docstring(s) in {STUB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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


Edit = Tuple[str, int, int, List[str], str]  # (kind, first line, last line, new lines, name)


def edits(tree: ast.Module, module: object) -> List[Edit]:
    """What to change for each def whose docstring differs from the runtime's."""
    out: List[Edit] = []

    def visit(node: Def, path: List[str], indent: str) -> None:
        qual = path + [node.name]
        name = ".".join(qual)
        want = runtime_doc(module, qual)
        have = ast.get_docstring(node, clean=True)
        inner = indent + "    "
        if want != have:
            first = node.body[0]
            has_doc = (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            )
            if has_doc:
                end = first.end_lineno or first.lineno
                lines = docstring_lines(want, inner) if want else []
                if not want and len(node.body) == 1:
                    lines = [f"{inner}..."]
                out.append(("replace", first.lineno, end, lines, name))
            elif want and isinstance(first, ast.Expr) and first.lineno == node.body[-1].lineno:
                # `def f(...) -> T: ...`: split the line and put the docstring in the body
                out.append(("split", first.lineno, first.lineno, docstring_lines(want, inner), name))
            elif want:
                # a class whose body starts with members: insert the docstring before them
                decorators = getattr(first, "decorator_list", [])
                at = min([first.lineno] + [d.lineno for d in decorators])
                out.append(("insert", at, at, docstring_lines(want, inner) + [""], name))
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                    visit(child, qual, inner)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            visit(node, [], "")
    return out


def apply(text: str, changes: List[Edit]) -> str:
    lines = text.split("\n")
    for kind, start, end, new, _ in sorted(changes, key=lambda c: -c[1]):
        if kind == "split":
            head = lines[start - 1].rstrip()
            assert head.endswith(": ..."), head
            lines[start - 1 : start] = [head[: -len(" ...")]] + new
        elif kind == "insert":
            lines[start - 1 : start - 1] = new
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
    module_doc = runtime_doc(importlib.import_module("dsvmpool"), ["_native"])
    if ast.get_docstring(tree, clean=True) != module_doc:
        lines = docstring_lines(module_doc, "") if module_doc else []
        if ast.get_docstring(tree) is not None:
            first = tree.body[0]
            changes.append(("replace", first.lineno, first.end_lineno or first.lineno, lines, "the module"))
        else:
            changes.append(("insert", 1, 1, lines + [""], "the module"))
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

"""How many public helpers of labhelpers are documented as the house rules ask.

    .venv/bin/python benchmarks/docstrings.py              # a table per module
    .venv/bin/python benchmarks/docstrings.py --missing    # and what each helper lacks
    .venv/bin/python benchmarks/docstrings.py --rev main   # the same, on a commit

A *public helper with parameters*: a function of a module, a public method of a
public class, or a public class whose ``__init__`` takes parameters (its docstring
is the class's), none of them named with a leading underscore, in no private module.
It is *documented* when its docstring has

- ``Args:`` naming every parameter (``self``/``cls`` aside);
- ``Returns:`` (or ``Yields:``) when its body returns a value or yields;
- ``Raises:`` when its body raises an exception by name;
- a ``>>>`` example (a method may rely on its class's);
- the notebook that introduces it (``NN-name``, or ``Introduced in README...`` for what
  no notebook calls; a method may rely on its class's,
  anything may rely on its module's).

A few helpers are printed whole in a notebook (``inspect.getsource``, docstring
included): their docstrings are left as they are, or the stored outputs would change;
they are counted apart (:data:`SHOWN`).

Reads the source only (nothing is imported or run); measures, never fails.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = re.compile(r"\b0\d-[a-z]|Introduced in README")  # or where README introduces it
#: Helpers whose source a notebook prints: 02 prints UnixHTTPConnection, 05 the clients' ways.
SHOWN = {"labhelpers.rawapi.http.UnixHTTPConnection", "labhelpers.alternatives.with_docker_py",
         "labhelpers.alternatives.aiodocker_way", "labhelpers.alternatives.with_whales",
         "labhelpers.alternatives.with_testcontainers", "labhelpers.alternatives.with_raw"}


@dataclass
class Helper:
    module: str
    name: str
    lacks: list[str] = field(default_factory=list)


def _own_nodes(fn):
    """The nodes of a function's body, not those of functions or classes nested in it."""
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _params(fn, method: bool) -> list[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    if method and names[:1] in (["self"], ["cls"]):
        names = names[1:]
    return names + [x.arg for x in (a.vararg, a.kwarg) if x]


def _lacks(fn, method: bool, doc: str, context: str) -> list[str]:
    lacks = []
    args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    unnamed = [p for p in _params(fn, method) if not re.search(rf"\b{re.escape(p)}\b", args)]
    if unnamed:
        lacks.append("Args: " + ", ".join(unnamed))
    nodes = list(_own_nodes(fn))
    returns = any(isinstance(n, ast.Return) and n.value is not None
                  and not (isinstance(n.value, ast.Constant) and n.value.value is None) for n in nodes)
    yields = any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes)
    if fn.name != "__init__" and (returns or yields) and not re.search(r"\b(Returns|Yields):", doc):
        lacks.append("Returns")
    if any(isinstance(n, ast.Raise) and n.exc is not None for n in nodes) and "Raises:" not in doc:
        lacks.append("Raises")
    if ">>>" not in doc and ">>>" not in context:
        lacks.append("example")
    if not NOTEBOOK.search(doc) and not NOTEBOOK.search(context):
        lacks.append("notebook")
    return lacks


def helpers(source: str, module: str) -> list[Helper]:
    """The public helpers with parameters of one module's source, and what each lacks."""
    tree = ast.parse(source)
    module_doc = ast.get_docstring(tree) or ""
    module_notebook = " ".join(NOTEBOOK.findall(module_doc))
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            if _params(node, False):
                doc = ast.get_docstring(node) or ""
                found.append(Helper(module, node.name, _lacks(node, False, doc, module_notebook)))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            class_doc = ast.get_docstring(node) or ""
            for sub in node.body:
                if not isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) or not _params(sub, True):
                    continue
                if sub.name == "__init__":
                    found.append(Helper(module, node.name,
                                        _lacks(sub, True, class_doc, module_notebook)))
                elif not sub.name.startswith("_"):
                    found.append(Helper(module, f"{node.name}.{sub.name}",
                                        _lacks(sub, True, ast.get_docstring(sub) or "",
                                               class_doc + module_notebook)))
    return found


def sources(rev: str | None) -> dict[str, str]:
    """module name → source, from the work tree or from a commit."""
    if rev is None:
        paths = sorted((ROOT / "labhelpers").rglob("*.py"))
        files = {str(p.relative_to(ROOT)): p.read_text() for p in paths}
    else:
        listed = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev, "labhelpers"],
                                capture_output=True, text=True, check=True).stdout.split()
        files = {p: subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{p}"], capture_output=True,
                                   text=True, check=True).stdout for p in listed if p.endswith(".py")}
    out = {}
    for path, text in files.items():
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts):
            continue  # a private module (or __main__)
        out[".".join(parts)] = text
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="count at this commit instead of the work tree")
    parser.add_argument("--missing", action="store_true", help="list each helper not documented, and why")
    args = parser.parse_args()
    every = [h for module, text in sources(args.rev).items() for h in helpers(text, module)]
    rows = [h for h in every if f"{h.module}.{h.name}" not in SHOWN]
    by_module: dict[str, list[Helper]] = {}
    for h in rows:
        by_module.setdefault(h.module, []).append(h)
    width = max(len(m) for m in by_module)
    print(f"{'module':<{width}}  helpers  documented  with Args")
    for module, hs in sorted(by_module.items()):
        args_ok = sum(not any(x.startswith("Args") for x in h.lacks) for h in hs)
        print(f"{module:<{width}}  {len(hs):>7}  {sum(not h.lacks for h in hs):>10}  {args_ok:>9}")
    args_ok = sum(not any(x.startswith("Args") for x in h.lacks) for h in rows)
    print(f"{'total':<{width}}  {len(rows):>7}  {sum(not h.lacks for h in rows):>10}  {args_ok:>9}")
    print(f"(and {len(every) - len(rows)} shown whole in a notebook, left as they are)")
    if args.missing:
        for h in rows:
            if h.lacks:
                print(f"{h.module}.{h.name}: {'; '.join(h.lacks)}")


if __name__ == "__main__":
    sys.exit(main())

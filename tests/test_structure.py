"""The package's shape: no import circle, every exception in errors.py, no private cross-imports, leaves.

Read from the source with ``ast`` (nothing is imported or run), so these tests need no
engine and take well under a second. An import inside a function counts apart from one
at module level: a circle of module-level imports breaks ``import labhelpers``; one that
closes only through function-level imports still ties the modules into one knot.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

import labhelpers

PACKAGE = Path(labhelpers.__file__).resolve().parent
ROOT = PACKAGE.name  # "labhelpers"

#: Leaf modules: no imports from the rest of the package (only from one another).
LEAVES = {"labhelpers.errors", "labhelpers.settings", "labhelpers.labels", "labhelpers.catalogue"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


class _Imports(ast.NodeVisitor):
    """The package's modules one module imports: (target, names, inside a function?)."""

    def __init__(self, module: str, is_package: bool):
        self.base = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[str, list[str], bool]] = []
        self.depth = 0

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import):
        for alias in node.names:
            if alias.name == ROOT or alias.name.startswith(ROOT + "."):
                self.found.append((alias.name, [], self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom):
        if node.level:
            base = self.base.split(".")[: len(self.base.split(".")) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if source != ROOT and not source.startswith(ROOT + "."):
            return
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            # `from . import images` imports the module labhelpers.images, not a name of the package
            self.found.append((sub, [], self.depth > 0) if sub in MODULES else (source, [alias.name], self.depth > 0))


def _imports() -> dict[str, list[tuple[str, list[str], bool]]]:
    out = {}
    for module, path in MODULES.items():
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), str(path)))
        out[module] = [(target, names, inner) for target, names, inner in visitor.found
                       if target != module and names != ["__version__"]]
    return out


IMPORTS = _imports()


def _graph(function_level: bool) -> dict[str, set[str]]:
    return {module: {target for target, _, inner in found if function_level or not inner}
            for module, found in IMPORTS.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import graph's circles: its strongly connected parts of more than one module.

    >>> circles({"a": {"b"}, "b": {"a"}, "c": {"a"}})
    [['a', 'b']]
    >>> circles({"a": {"b"}, "b": set()})
    []
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _explain(graph: dict[str, set[str]], parts: list[list[str]]) -> str:
    lines = []
    for part in parts:
        lines.append("circle: " + ", ".join(part))
        lines += [f"  {a} -> {b}" for a in part for b in sorted(graph[a]) if b in part]
    return "\n".join(lines)


def test_no_import_circle_at_module_level():
    graph = _graph(function_level=False)
    assert not circles(graph), "module-level imports make a circle:\n" + _explain(graph, circles(graph))


def test_no_import_circle_through_function_level_imports():
    graph = _graph(function_level=True)
    assert not circles(graph), (
        "imports (some inside functions) tie modules into a circle; move what both need "
        "to a lower module:\n" + _explain(graph, circles(graph)))


def test_leaves_import_nothing_from_the_rest_of_the_package():
    wrong = [f"{leaf} is missing" for leaf in sorted(LEAVES - set(MODULES))]
    wrong += sorted({f"{leaf} imports {target}" for leaf in LEAVES & set(MODULES)
                     for target, _, _ in IMPORTS[leaf] if target not in LEAVES})
    assert not wrong, "\n".join(wrong)


def _base_names(node: ast.ClassDef) -> list[str]:
    return [ast.unparse(base).rpartition(".")[2] for base in node.bases]


def _exception_classes(tree: ast.AST, known: set[str]) -> list[ast.ClassDef]:
    builtin = {name for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, BaseException)}
    return [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
            and any(b in builtin or b in known or b.endswith(("Error", "Exception")) for b in _base_names(node))]


def test_every_exception_class_is_in_errors():
    errors = ast.parse(MODULES[f"{ROOT}.errors"].read_text())
    known = {node.name for node in ast.walk(errors) if isinstance(node, ast.ClassDef)}
    elsewhere = [f"{path.relative_to(PACKAGE.parent)}:{node.lineno} class {node.name}"
                 for module, path in MODULES.items() if module != f"{ROOT}.errors"
                 for node in _exception_classes(ast.parse(path.read_text()), known)]
    assert not elsewhere, "exception classes outside labhelpers/errors.py:\n" + "\n".join(elsewhere)


def test_no_module_imports_a_private_name_of_another():
    private = [f"{module} imports {name} from {target}"
               for module, found in IMPORTS.items() for target, names, _ in found for name in names
               if name.startswith("_") and not name.startswith("__")]
    private += [f"{module} imports the private module {target}"
                for module, found in IMPORTS.items() for target, _, _ in found
                if any(part.startswith("_") and not part.startswith("__") for part in target.split("."))]
    assert not private, "\n".join(sorted(set(private)))


@pytest.mark.parametrize("sample, expected", [
    ("from .a import _b", [("labhelpers.a", ["_b"], False)]),
    ("def f():\n    from . import images", [("labhelpers.images", [], True)]),
    ("import os\nfrom docker import errors", []),
])
def test_imports_are_read_at_their_level(sample, expected):
    visitor = _Imports("labhelpers.cleanup", False)
    visitor.visit(ast.parse(sample))
    assert visitor.found == expected

"""Imports run one way: no module of the package or of the benchmarks imports, even
inside a function, a module that imports it back."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path, root):
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package):
    """``{module: modules of the same package it imports}``, from the source."""
    paths = {_module_name(path, ROOT): path for path in (ROOT / package).rglob("*.py")}
    graph = {}
    for module, path in paths.items():
        is_package = path.name == "__init__.py"
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = module.split(".")
                    anchor = anchor[:len(anchor) - node.level + is_package]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    base = node.module
                # "from . import name" imports the module ``name`` when there is one.
                submodules = {f"{base}.{alias.name}" for alias in node.names} & set(paths)
                imported.update(submodules or {base})
        graph[module] = (imported & set(paths)) - {module}
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    visiting, done = [], set()

    def visit(module):
        if module in visiting:
            return visiting[visiting.index(module):] + [module]
        if module in done:
            return None
        visiting.append(module)
        for target in sorted(graph[module]):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


@pytest.mark.parametrize("package", ["skgan_ad", "benchmarks"])
def test_imports_run_one_way(package):
    graph = import_graph(package)
    assert len(graph) > 5
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_two_way_import():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None

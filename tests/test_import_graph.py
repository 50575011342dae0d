"""No module of ``semanscope`` imports (directly or through others) a module that imports it back.

The graph has an edge ``a -> b`` for every ``import``/``from`` statement in module ``a`` that
names module ``b`` of the package, read with :mod:`ast` (nothing is imported):

* every statement counts, wherever it is: at module level, inside a function (a lazy import
  is a real dependency, it runs when the function is called) and under ``if TYPE_CHECKING:``
  (a dependency of the design even when it does not run);
* relative imports are resolved against the importing module's package;
* ``from p import x`` is an edge to the submodule ``p.x`` when that is a module, else to ``p``
  (its ``__init__``); ``import p.q.r`` is an edge to ``p.q.r`` (the deepest module it names);
* importing ``p.q`` also runs ``p/__init__.py``; those implicit edges to parent packages are
  not counted: a package ``__init__`` that re-exports its submodules would otherwise form a
  "cycle" with each of them that Python resolves by design (the package is in ``sys.modules``
  before its submodules run).

``importlib.import_module`` with a computed name is not seen; the package uses it only for
third-party backends.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "semanscope"

Graph = dict[str, set[str]]


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file below ``package_dir`` (packages by ``__init__``)."""
    root = package_dir.parent
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph(package_dir: Path) -> Graph:
    """Module -> the package's modules it imports (see the module docstring for what counts)."""
    modules = module_names(package_dir)
    top = package_dir.name

    def deepest(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: Graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(deepest(alias.name) for alias in node.names if alias.name.split(".")[0] == top)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: package.count(".") + 2 - node.level]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source.split(".")[0] != top:
                    continue
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.add(sub if sub in modules else deepest(source))
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` per strongly connected component with more than one module
    (Tarjan's algorithm, iterative), each found by a depth-first walk inside its component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: Graph, component: set[str]) -> list[str]:
    """A cycle through the smallest module of a strongly connected component (breadth-first back to it)."""
    start = min(component)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in parent:
                    parent[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{sorted(component)} is not strongly connected")


def write_package(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_graph_reads_every_kind_of_import(tmp_path):
    pkg = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub.a import A\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/a.py": "from . import b\nfrom .. import top\nimport os\nA = 1\n",
            "pkg/sub/b.py": "def f():\n    import pkg.sub.c as c\n",
            "pkg/sub/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.top import T\n",
            "pkg/top.py": "from pkg.sub import a, missing\nfrom pkg import sub\nT = 1\n",
        },
    )
    assert import_graph(pkg) == {
        "pkg": {"pkg.sub.a"},
        "pkg.sub": set(),
        "pkg.sub.a": {"pkg.sub.b", "pkg.top"},
        "pkg.sub.b": {"pkg.sub.c"},
        "pkg.sub.c": {"pkg.top"},
        "pkg.top": {"pkg.sub", "pkg.sub.a"},  # 'missing' is a name in pkg.sub: an edge to pkg.sub
    }


def test_cycles_are_found_through_lazy_and_relative_imports(tmp_path):
    pkg = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import x\n",
            "pkg/b.py": "def f():\n    from pkg import c\nx = 1\n",
            "pkg/c.py": "from pkg.a import y\n",
            "pkg/d.py": "from pkg import e\n",
            "pkg/e.py": "import pkg.d\n",
            "pkg/f.py": "from pkg import a\n",
        },
    )
    assert sorted(cycles(import_graph(pkg))) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"], ["pkg.d", "pkg.e", "pkg.d"]]
    assert cycles({"x": {"y"}, "y": set()}) == []


def test_no_import_cycles_in_semanscope():
    graph = import_graph(PACKAGE_DIR)
    assert "semanscope.models.registry" in graph and len(graph) > 40
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)

"""The import graph of segkit: no cycle, and no import against the layers.

Every ``import`` / ``from ... import`` in every module counts, at any depth (an import inside a
function is a dependency too, only a later one); an import under ``if TYPE_CHECKING:`` counts for
the contracts but not for cycles, since it never runs. Layers, bottom up::

    _checks, assets                     import nothing of segkit
    device                              _checks
    data, transforms, models, losses,   the learning library: no train, inference, zoo or course
    metrics, instances
    train, inference, pretrained, zoo   inference imports no zoo and no train; zoo no train
    viz                                 the library's pictures
    course                              the tooling: uses the library, the library never uses it

To add a rule, add a :class:`Contract` to ``CONTRACTS`` (e.g. for the course's own layers:
``Contract("the grader never imports the learner's tools", ("segkit.course.grading",),
("segkit.course.learner",))``). A module name in a contract covers its submodules.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "segkit"

# Imports done inside a module-level __getattr__ to keep an old import path working (PEP 562): the
# one lazy edge allowed to close a cycle, with why. Delete an entry once its reason is gone.
LAZY_ALIASES = {
    ("segkit.inference", "segkit.zoo"): "load_model & co. for lessons copied into work/ before the zoo moved",
}


@dataclass(frozen=True)
class Contract:
    """Modules under ``sources`` (prefixes), but not under ``exempt``, never import modules under
    ``forbidden`` (segkit module prefixes, or top-level names of other packages such as
    ``"nbgrader"``) unless they are under ``allowed``."""

    name: str
    sources: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = field(default=())
    exempt: tuple[str, ...] = field(default=())


LEARNING = ("segkit.data", "segkit.transforms", "segkit.models", "segkit.losses", "segkit.metrics", "segkit.instances")
CONTRACTS = [
    Contract("the checks and the assets are the bottom layer", ("segkit._checks", "segkit.assets"), ("segkit",)),
    Contract("device needs only the checks", ("segkit.device",), ("segkit",), allowed=("segkit._checks",)),
    Contract("the learning library does not reach up", LEARNING,
             ("segkit.train", "segkit.inference", "segkit.zoo", "segkit.pretrained", "segkit.course")),
    Contract("prediction does not need the zoo or training", ("segkit.inference", "segkit.pretrained"),
             ("segkit.zoo", "segkit.train", "segkit.course", "segkit.data")),
    Contract("the zoo reads models, it never trains", ("segkit.zoo",), ("segkit.train", "segkit.course")),
    Contract("nothing outside segkit.course imports it", ("segkit",), ("segkit.course",), exempt=("segkit.course",)),
    Contract("the grader needs neither the learner's tools nor the authoring tools (but the notebook reader)",
             ("segkit.course.grading",), ("segkit.course.learner", "segkit.course.authoring"),
             allowed=("segkit.course.authoring.notebook",)),
    Contract("the course's base (config, cells, sandbox, nbgrader settings) sits under every tool",
             ("segkit.course.config", "segkit.course.cells", "segkit.course.sandbox", "segkit.course.nbgrader_settings"),
             ("segkit.course.grading", "segkit.course.authoring", "segkit.course.learner", "segkit.course.kernel")),
    Contract("what runs in a learner's kernel (on Colab too) imports no other course tooling and no nbgrader",
             ("segkit.course.kernel",), ("segkit.course", "nbgrader"), allowed=("segkit.course.kernel",)),
]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str  # a segkit module, or the top-level name of another package
    line: int
    lazy_alias: bool  # inside a module-level __getattr__
    type_only: bool = False  # under ``if TYPE_CHECKING:``: never runs, so it cannot close a cycle


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, modules: set[str]) -> str:
    """The longest prefix of ``name`` that is a segkit module (``from pkg import sub`` names a module)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def import_edges(root: Path = ROOT) -> tuple[set[str], list[Edge]]:
    """Every module under ``root`` and every import edge between them (plus edges to other packages)."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(files)
    edges = []
    for source, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        package = source if path.name == "__init__.py" else source.rsplit(".", 1)[0]
        aliases = {id(n) for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
                   for n in ast.walk(f)}
        type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                     and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                     for stmt in block.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                names = [f"{base}.{alias.name}" for alias in node.names] if base.split(".")[0] == "segkit" else [base]
            else:
                continue
            for name in names:
                target = _resolve(name, modules) if name.split(".")[0] == "segkit" else name.split(".")[0]
                if target != source:
                    edges.append(Edge(source, target, node.lineno, id(node) in aliases, id(node) in type_only))
    return modules, edges


def import_cycles(modules: set[str], edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for e in edges:
        if e.target in graph and not e.type_only and not (e.lazy_alias and (e.source, e.target) in LAZY_ALIASES):
            graph[e.source].add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(cycles)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def broken(contract: Contract, edges: list[Edge]) -> list[str]:
    return [f"{e.source}:{e.line} imports {e.target}" for e in edges
            if _under(e.source, contract.sources) and not _under(e.source, contract.exempt)
            and _under(e.target, contract.forbidden) and not _under(e.target, contract.allowed)]


MODULES, EDGES = import_edges()


def test_segkit_has_no_import_cycle():
    cycles = import_cycles(MODULES, EDGES)
    assert not cycles, "import cycles (each a set of modules that import each other):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_the_lazy_aliases_are_the_only_exceptions_and_still_needed():
    lazy = {(e.source, e.target) for e in EDGES if e.lazy_alias}
    assert lazy == set(LAZY_ALIASES), f"lazy __getattr__ imports {sorted(lazy)} vs LAZY_ALIASES {sorted(LAZY_ALIASES)}"


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c.name for c in CONTRACTS])
def test_layering_contract(contract):
    assert any(_under(m, contract.sources) for m in MODULES), f"{contract.name}: no module matches {contract.sources}"
    violations = broken(contract, [e for e in EDGES if not (e.lazy_alias and (e.source, e.target) in LAZY_ALIASES)])
    assert not violations, f"{contract.name}:\n" + "\n".join(sorted(set(violations)))


def test_the_checker_sees_cycles_and_wrong_way_imports(tmp_path):
    """The rules above are only as good as the graph: a planted cycle and a planted import are found."""
    package = tmp_path / "segkit"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models" / "__init__.py").write_text("from . import fcn\n")
    (package / "models" / "fcn.py").write_text("def f():\n    from segkit.train import fit\n")
    (package / "train.py").write_text("from segkit.models import fcn\nimport numpy\nimport segkit.course.kernel\n")
    (package / "course" / "kernel").mkdir(parents=True)
    (package / "course" / "__init__.py").write_text("")
    (package / "course" / "grading.py").write_text("import nbgrader\n")
    (package / "course" / "kernel" / "__init__.py").write_text("from segkit.course import grading\nfrom . import x\n")
    (package / "course" / "kernel" / "x.py").write_text("")
    modules, edges = import_edges(package)
    assert {"segkit", "segkit.models", "segkit.models.fcn", "segkit.train", "segkit.course.kernel.x"} <= modules
    assert import_cycles(modules, edges) == [["segkit.models.fcn", "segkit.train"]]
    found = {c.name: broken(c, edges) for c in CONTRACTS}
    assert found["the learning library does not reach up"] == ["segkit.models.fcn:2 imports segkit.train"]
    assert found["nothing outside segkit.course imports it"] == ["segkit.train:3 imports segkit.course.kernel"]
    kernel = next(name for name in found if name.startswith("what runs in a learner's kernel"))
    assert found[kernel] == ["segkit.course.kernel:1 imports segkit.course.grading"], "its own submodules are allowed"
    assert Edge("segkit.train", "numpy", 2, False) in edges

"""Static scan of the learner's code for the tools that tamper with how tests run.

Only cells that differ from the released notebook are read, after IPython's own input transforms.
A finding withholds the score with a "needs review" reason; the points it would have earned are
shown beside it. Process control (subprocess, fork, signals, sockets) is not listed: the sandbox
contains it. These names reach into the interpreter that runs the tests.
"""
from __future__ import annotations

import ast

import nbformat

from segkit.course import cells
from segkit.course.grading.budget import Budget
from segkit.course.grading.reference import Reference

TAMPER_ATTRS = {
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager", "ast_transformers",
    "events", "set_custom_exc", "set_hook", "register_magic_function", "run_cell", "run_ast_nodes", "user_ns",
    "settrace", "setprofile", "addaudithook", "_getframe", "f_back", "f_globals", "f_locals", "f_builtins",
    "tb_frame", "gi_frame", "cr_frame", "__builtins__", "__subclasses__", "__globals__", "__code__",
    "__closure__", "__dict__", "__getattribute__", "__setattr__", "co_code", "displayhook", "excepthook",
    "meta_path", "path_hooks", "_ip", "history_manager", "__traceback__", "tb_next", "f_code", "co_consts",
    "cell_contents", "last_execution_result",
}  # not "modules": nn.Module.modules() is everyday PyTorch, and sys.modules needs `import sys` (flagged)
# Process control (subprocess, os.fork, os._exit, signals, sockets) is not listed: the sandbox
# contains it. These reach into the interpreter that runs the tests.
TAMPER_MODULES = {
    "builtins", "ctypes", "gc", "importlib", "IPython", "pickle", "marshal", "types", "code", "codeop",
    "inspect", "sys", "dill", "cloudpickle", "linecache", "traceback",
}
# setattr / delattr only count on a module (setattr(torch, ...)); on a model they are model surgery.
MODULE_SETTERS = {"setattr", "delattr"}
TAMPER_CALLS = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars",
                "breakpoint", "get_ipython", "In", "Out", "_ih", "_oh", "_i", "_ii", "_iii"}
MAX_BUDGET_CELL_CHARS = 20_000  # in a unit with a hand-in budget, a longer learner cell needs review
ATTR_GETTERS = {"attrgetter", "methodcaller"}  # operator's getattr in disguise
MODULE_NAMES = {"np", "numpy", "torch", "F", "nn", "segkit", "metrics", "math", "plt", "matplotlib", "builtins"}


def tamper_findings(notebook: nbformat.NotebookNode, ref: Reference) -> list[str]:
    """Reasons to review the learner's code by hand: uses of the tools that can change how test
    cells run or what they compare with. Only cells that differ from the released notebook are read."""
    from IPython.core.inputtransformer2 import TransformerManager

    released = {c.source.strip() for c in ref.release.cells if c.cell_type == "code"}
    released |= {s.strip() for s in ref.locked_sources.values()}
    findings: list[str] = []
    budgeted = Budget.of(ref) is not None
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source.strip() in released:
            continue
        name = cells.grade_id(cell) or cell.get("id")
        if budgeted and len(cell.source) > MAX_BUDGET_CELL_CHARS:
            # weights trained elsewhere can ride in as text (base64): a hand-in under a budget has no use for it
            findings.append(f"cell {name}: {len(cell.source) // 1000} kB of source (data or weights pasted into the notebook?)")
        try:
            tree = ast.parse(TransformerManager().transform_cell(cell.source))
        except (SyntaxError, ValueError):
            continue  # it fails when it runs, like any syntax error
        imported = set(MODULE_NAMES)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                imported |= {a.asname or a.name.split(".")[0] for a in node.names}
                bad = [m for m in mods if m.split(".")[0] in TAMPER_MODULES]
                if bad:
                    findings.append(f"cell {name}: imports {bad[0]}")
                if isinstance(node, ast.ImportFrom) and any(a.name in TAMPER_ATTRS for a in node.names):
                    findings.append(f"cell {name}: imports {node.module}.{next(a.name for a in node.names if a.name in TAMPER_ATTRS)}")
            elif isinstance(node, ast.Attribute) and node.attr in TAMPER_ATTRS:
                findings.append(f"cell {name}: uses .{node.attr}")
            elif isinstance(node, ast.Name) and (node.id in TAMPER_CALLS or node.id == "__builtins__"):
                findings.append(f"cell {name}: uses {node.id}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MODULE_SETTERS:
                base = node.args[0] if node.args else None
                while isinstance(base, ast.Attribute):
                    base = base.value
                if not isinstance(base, ast.Name) or base.id in imported:
                    findings.append(f"cell {name}: uses {node.func.id} on {ast.unparse(node.args[0]) if node.args else '?'}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" and (
                    len(node.args) < 2 or not isinstance(node.args[1], ast.Constant)):
                findings.append(f"cell {name}: getattr with a computed name")
            elif isinstance(node, ast.Call) and _called_name(node) in ATTR_GETTERS and not all(
                    isinstance(a, ast.Constant) for a in node.args):
                findings.append(f"cell {name}: {_called_name(node)} with a computed name")
        for node in ast.walk(tree):  # assignments to attributes of modules: patching what tests use
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else node.targets if isinstance(node, ast.Delete) else []
            for target in targets:
                base = target
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(target, ast.Attribute) and isinstance(base, ast.Name) and base.id in imported:
                    dotted = ast.unparse(target)
                    if not dotted.startswith("torch.backends."):
                        findings.append(f"cell {name}: assigns {dotted}")
    return list(dict.fromkeys(findings))


def _called_name(call: ast.Call) -> str | None:
    """``f`` for ``f(...)`` and ``m.f(...)``."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None

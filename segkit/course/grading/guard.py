"""Test cells the learner's code can neither read nor rewrite before they run: the *guard*.

Hidden tests have to run in the learner's interpreter (they call the learner's functions), so a
submission can try to change them on the way in: an IPython input or AST transformer that strips
``assert`` statements, or one that keeps exactly the grader's tripwire line. The guard takes the
test's text out of reach of those tools:

1. When a kernel starts, before any learner code, the parent runs :data:`BOOT` (not stored in the
   kernel's history): it moves to the working folder, imports the modules tests compare with and
   takes a snapshot of their functions, and defines a *runner* under a random name. The runner
   holds a random key, made in the kernel and printed once to the parent over the kernel's output
   channel (which learner code cannot read back).
2. Each test cell reaches the kernel as ``runner("<sealed test>", "<mac>", "test_iou")``: its source
   encrypted with that key and authenticated (HMAC-SHA256). An input transformer sees only this
   call. The runner checks the MAC (an altered test is refused), decrypts, compiles with the
   ``compile``/``exec`` it captured at boot (IPython's transformers never see the text; nothing is
   put into ``linecache`` or the history), and runs it in the learner's namespace.
3. Before and after the test it checks that no trace or profile function is set and that no
   function of the snapshot (torch, numpy, math, builtins, segkit's metrics, losses and instances,
   the test helpers) was replaced. A finding raises an error carrying the submission's tamper tag:
   the grader withholds the score for review.

What remains possible, and is said in docs/grading-threat-model.md: code that finds the runner's
key in the interpreter's memory (closures, frames, ``gc``: the static scan flags the tools), and
patching something outside the snapshot that a test relies on.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

RUNNER_PREFIX = "_segkit_run_"
SNAPSHOT_MODULES = ("builtins", "math", "operator", "torch", "torch.nn.functional", "torch.testing", "numpy",
                    "numpy.testing", "segkit.metrics", "segkit.losses", "segkit.instances", "segkit.course.kernel.testing")
KEY_LINE = re.compile(r"^segkit-guard-key ([0-9a-f]{64})$", re.M)

BOOT = r'''
def _segkit_boot(workdir, tag, modules):
    import ast, builtins, hashlib, hmac, importlib, os, sys, threading
    os.chdir(workdir)
    for settle in ("torch._dynamo", "torch.export"):  # torch wraps some of its own functions on these imports
        try:
            importlib.import_module(settle)
        except Exception:
            pass
    found = {}
    for name in modules:
        try:
            found[name] = importlib.import_module(name)
        except Exception:
            pass
    # builtins the kernel itself swaps per request (input, getpass) or that IPython manages are left out
    dynamic = {"input", "raw_input", "breakpoint", "exit", "quit", "help", "copyright", "credits", "license",
               "display", "get_ipython", "open", "print"}
    snapshot = [(name, attr, obj) for name, module in found.items() for attr, obj in list(vars(module).items())
                if callable(obj) and not isinstance(obj, type) and not attr.startswith("_")
                and not (name == "builtins" and attr in dynamic)]
    key = os.urandom(32)
    shell = get_ipython()
    user_ns = shell.user_ns
    _exec, _eval, _compile, _parse = builtins.exec, builtins.eval, builtins.compile, ast.parse
    _Module, _Expression, _Expr = ast.Module, ast.Expression, ast.Expr
    _gettrace, _getprofile, _vars, _getattr = sys.gettrace, sys.getprofile, builtins.vars, builtins.getattr
    _new, _digest, _eq, _sha256 = hmac.new, hashlib.sha256, hmac.compare_digest, hashlib.sha256
    _b64 = __import__("base64").b64decode

    def problems():
        found_problems = []
        if _gettrace() is not None or _getprofile() is not None or threading._trace_hook is not None \
                or threading._profile_hook is not None:
            found_problems.append("a trace or profile function is set")
        changed = [f"{name}.{attr}" for name, attr, obj in snapshot if _vars(found[name]).get(attr) is not obj]
        if changed:
            found_problems.append("replaced: " + ", ".join(changed[:5]))
        return found_problems

    def run(sealed, mac, name):
        blob = _b64(sealed)
        if not _eq(_new(key, blob, "sha256").hexdigest(), mac):
            raise AssertionError(f"{tag}: the test cell {name} was altered before it ran")
        stream = b"".join(_sha256(key + i.to_bytes(8, "big")).digest() for i in range(len(blob) // 32 + 1))
        source = bytes(a ^ b for a, b in zip(blob, stream)).decode("utf-8")
        before = problems()
        if before:
            raise AssertionError(f"{tag}: before {name}: " + "; ".join(before))
        tree = _parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], _Expr) else None
        error, value = None, None
        try:
            _exec(_compile(_Module(tree.body, []), f"<{name}>", "exec"), user_ns)
            if last is not None:
                value = _eval(_compile(_Expression(last.value), f"<{name}>", "eval"), user_ns)
        except BaseException as err:
            error = err
        after = problems()
        if after:
            raise AssertionError(f"{tag}: during {name}: " + "; ".join(after))
        if error is not None:
            raise error.with_traceback(None)
        return value

    print(f"segkit-guard-key {key.hex()}")
    return run
'''


def boot_source(runner: str, workdir: str, tag: str) -> str:
    """The code the parent runs first in every guarded kernel."""
    return f"{BOOT}\n{runner} = _segkit_boot({workdir!r}, {tag!r}, {SNAPSHOT_MODULES!r})\ndel _segkit_boot\n"


def new_runner_name() -> str:
    return RUNNER_PREFIX + secrets.token_hex(6)


def read_key(outputs: list) -> bytes:
    """The key the boot printed (the parent reads it from the boot cell's output)."""
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    match = KEY_LINE.search(text)
    if match is None:
        raise RuntimeError("the guarded kernel did not report its key (the boot failed)")
    return bytes.fromhex(match[1])


def seal(source: str, key: bytes) -> tuple[str, str]:
    """``source`` encrypted with ``key`` (SHA-256 counter-mode keystream) and its HMAC."""
    data = source.encode("utf-8")
    stream = b"".join(hashlib.sha256(key + i.to_bytes(8, "big")).digest() for i in range(len(data) // 32 + 1))
    blob = bytes(a ^ b for a, b in zip(data, stream))
    return base64.b64encode(blob).decode("ascii"), hmac.new(key, blob, "sha256").hexdigest()


def sealed_call(runner: str, source: str, key: bytes, name: str) -> str:
    """The code sent to the kernel in place of a test cell."""
    blob, mac = seal(source, key)
    return f"{runner}({blob!r}, {mac!r}, {name!r})"

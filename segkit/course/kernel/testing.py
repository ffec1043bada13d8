"""Helpers for the course's test cells (visible and hidden), importable in any kernel.

Error paths: :func:`expect_raises` fails with "CASE should raise ValueError, got IndexError:
index 3 is out of bounds" when the learner's code raises something else, instead of showing the
learner's own unrelated traceback (or nothing at all when it raises nothing):

    with expect_raises(ValueError, "label 3 with a palette of 3 colours"):
        colorize(torch.tensor([[3]]), palette)

The course's delegation policy: an exercise that asks the learner to *build* X scores 0 when the
answer simply calls segkit's own X (``segkit.viz.colorize`` inside ``colorize``). Hidden tests
check it with :func:`no_delegation`; the statement of every such exercise says so. Using *other*
segkit functions, or torch and numpy, is always allowed.

    with no_delegation(segkit.viz.colorize):
        colorize(mask, palette)  # AssertionError if this reaches segkit.viz.colorize
"""
from __future__ import annotations

import contextlib
import types
from typing import Callable, Iterator


class Raised:
    """What :func:`expect_raises` caught: ``error`` is the exception (None until the block ends)."""

    error: BaseException | None = None


@contextlib.contextmanager
def expect_raises(expected: type[BaseException] | tuple[type[BaseException], ...], case: str) -> Iterator[Raised]:
    """The block must raise ``expected``; anything else fails with a message naming ``case``.

    Yields a :class:`Raised` whose ``error`` is the expected exception once the block is done, so
    a test can check its message too. AssertionErrors (a failed check inside the block, a
    :class:`DelegationError`) pass through unchanged, so they keep their own message.
    """
    names = " or ".join(e.__name__ for e in (expected if isinstance(expected, tuple) else (expected,)))
    raised = Raised()
    try:
        yield raised
    except expected as err:
        raised.error = err
        return
    except AssertionError:
        raise
    except Exception as err:
        raise AssertionError(f"{case} should raise {names}, got {type(err).__name__}: {err}") from None
    raise AssertionError(f"{case} should raise {names}, got no error")


class DelegationError(AssertionError):
    """Raised when a learner's answer calls the segkit function it is meant to rebuild."""


def _tripwire_code(name: str) -> types.CodeType:
    """A code object with no free variables (so it fits any plain function) that raises
    DelegationError naming ``name``. It runs with the guarded function's globals, so it
    imports the exception by module path rather than by a name from this module."""
    message = (
        f"your answer calls {name}, a ready-made version of what this exercise asks you to write "
        "yourself (the statement names it), so this exercise earns no points"
    )
    source = (
        "def tripwire(*args, **kwargs):\n"
        f"    raise __import__('segkit.course.kernel.testing', fromlist=['_']).DelegationError({message!r})\n"
    )
    namespace: dict = {}
    exec(compile(source, "<no_delegation>", "exec"), namespace)
    return namespace["tripwire"].__code__


@contextlib.contextmanager
def no_delegation(*functions: Callable) -> Iterator[None]:
    """While the block runs, calling any of ``functions`` raises :class:`DelegationError`.

    The functions' code objects are swapped (not the module attributes), so the check also
    catches an answer that imported the function under another name before the test ran
    (``from segkit.viz import colorize as c``). Plain Python functions only; the originals are
    restored on exit, even after an error.
    """
    saved: list[tuple[types.FunctionType, types.CodeType, tuple | None, dict | None]] = []
    for fn in functions:
        if not isinstance(fn, types.FunctionType):
            raise TypeError(f"no_delegation needs plain Python functions, got {type(fn).__name__} {fn!r}")
        if fn.__code__.co_freevars:
            raise TypeError(f"no_delegation cannot guard the closure {fn.__qualname__}")
    try:
        for fn in functions:
            saved.append((fn, fn.__code__, fn.__defaults__, fn.__kwdefaults__))
            fn.__code__ = _tripwire_code(f"{fn.__module__}.{fn.__qualname__}")
            fn.__defaults__, fn.__kwdefaults__ = None, None
        yield
    finally:
        for fn, code, defaults, kwdefaults in saved:
            fn.__code__, fn.__defaults__, fn.__kwdefaults__ = code, defaults, kwdefaults

"""Build values of frozen, slotted dataclasses at half the cost of their ``__init__``.

What it does: ``constructor(cls)`` returns a function that builds ``cls(*values)``. The
generated ``__init__`` of a frozen dataclass sets each field through
``object.__setattr__`` (its own ``__setattr__`` refuses); the constructor sets each slot
through its descriptor: the same value and the same instance (``==``, ``hash``, ``repr``,
still frozen). It is for hot paths that build many values: the read path's pages
(``feeds.storage.pages``) and tagging's matches (``feeds.tagging.matcher``).

What it does not do: run ``__post_init__`` (a class with one is refused), apply defaults
(every field is passed), or check types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def constructor(cls: type[T]) -> Callable[..., T]:
    """``cls(*values)`` for a frozen, slotted dataclass without ``__post_init__``."""
    assert hasattr(cls, "__slots__")
    assert not hasattr(cls, "__post_init__")  # it would be skipped
    names = [field.name for field in fields(cls)]  # type: ignore[arg-type]
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    scope.update({f"set_{name}": getattr(cls, name).__set__ for name in names})
    body = "".join(f"    set_{name}(made, {name})\n" for name in names)
    exec(f"def make({', '.join(names)}):\n    made = new(cls)\n{body}    return made\n", scope)
    made: Callable[..., T] = scope["make"]
    return made

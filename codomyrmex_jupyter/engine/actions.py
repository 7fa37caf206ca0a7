"""The action registry: how a step's ``module``/``action`` become a callable.

Three sources, looked up in this order:

1. Callables registered with :func:`action` (or :meth:`ActionRegistry.register`),
   including the built-in actions, which register themselves on first lookup.
2. Entry points in the group ``codomyrmex_jupyter.actions``, loaded once on the
   first miss. An entry point names a module whose import registers actions,
   or a callable that is called with the registry.
3. ``module:function`` imports, only for module prefixes the user allowed with
   ``allow_imports=["mypkg."]``. Nothing else is ever imported.

:meth:`ActionRegistry.scoped` gives a registry that sees everything
registered in its parent but may import from its own prefixes, and keeps
what it imports to itself: a ``WorkflowManager(allow_imports=[...])`` widens
its own view of the actions, never the process-wide registry.

Each registered callable is described once by an :class:`ActionSpec` (is it a
coroutine function, which parameters does it take), so binding arguments for a
step costs a few dictionary look-ups rather than an ``inspect.signature`` call.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import UnknownActionError

__all__ = [
    "ENTRY_POINT_GROUP",
    "NOTEBOOK_MODULE_PREFIX",
    "ActionRegistry",
    "ActionSpec",
    "ScopedRegistry",
    "action",
    "default_registry",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "codomyrmex_jupyter.actions"
# Steps defined from notebook cells live under this module prefix; their
# callables exist only in the kernel that ran the cell.
NOTEBOOK_MODULE_PREFIX = "notebook."
_BUILTIN_MODULES = (
    "codomyrmex_jupyter.engine.builtin.environment_setup",
    "codomyrmex_jupyter.engine.builtin.static_analysis",
    "codomyrmex_jupyter.engine.builtin.data_visualization",
)

F = TypeVar("F", bound=Callable[..., Any])


def entry_points(group: str) -> Any:
    """The installed entry points of ``group`` (``importlib.metadata`` loads lazily: ~15 ms)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A registered callable and what binding needs to know about it.

    Attributes
    ----------
    module, name:
        The registry key.
    fn:
        The callable.
    is_async:
        ``fn`` is a coroutine function (runs on the event loop).
    params:
        Names of the parameters it accepts by keyword.
    var_kw:
        It accepts ``**kwargs``.
    required:
        Parameters without a default.
    process:
        Run it in a process pool rather than a thread (sync callables only).
    """

    module: str
    name: str
    fn: Callable[..., Any]
    is_async: bool
    params: frozenset[str]
    var_kw: bool
    required: frozenset[str]
    process: bool = False

    @property
    def qualname(self) -> str:
        """``module.name``."""
        return f"{self.module}.{self.name}"

    @classmethod
    def describe(
        cls, module: str, name: str, fn: Callable[..., Any], *, process: bool = False
    ) -> ActionSpec:
        """Inspect ``fn`` once and build its spec."""
        if not callable(fn):
            raise TypeError(f"action {module}.{name} must be callable, got {type(fn).__name__}")
        sig = inspect.signature(fn)
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        params = [p for p in sig.parameters.values() if p.kind in kinds]
        return cls(
            module=module,
            name=name,
            fn=fn,
            is_async=inspect.iscoroutinefunction(fn),
            params=frozenset(p.name for p in params),
            var_kw=any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()),
            required=frozenset(p.name for p in params if p.default is inspect.Parameter.empty),
            process=process,
        )


class ActionRegistry:
    """Maps ``(module, action)`` to an :class:`ActionSpec`.

    Parameters
    ----------
    allow_imports:
        Module prefixes (``"mypkg."`` or ``"mypkg"``) whose functions may be
        imported on demand as ``module:function`` or ``module`` + ``action``.
    load_builtins:
        Register the built-in actions on first lookup.
    load_entry_points:
        Load the ``codomyrmex_jupyter.actions`` entry points on the first miss.
    """

    def __init__(
        self,
        *,
        allow_imports: Iterable[str] = (),
        load_builtins: bool = True,
        load_entry_points: bool = True,
    ) -> None:
        self._specs: dict[tuple[str, str], ActionSpec] = {}
        self._lock = threading.RLock()
        self.allow_imports: list[str] = list(allow_imports)
        self._builtins_loaded = not load_builtins
        self._entry_points_loaded = not load_entry_points

    # -- registration -------------------------------------------------------
    def register(
        self, module: str, name: str, fn: Callable[..., Any], *, process: bool = False
    ) -> ActionSpec:
        """Register ``fn`` as ``module.name``; a later registration replaces it."""
        if not module or not name:
            raise ValueError("an action needs a non-empty module and name")
        spec = ActionSpec.describe(module, name, fn, process=process)
        with self._lock:
            self._specs[(module, name)] = spec
        return spec

    def unregister(self, module: str, name: str | None = None) -> int:
        """Remove one action, or every action of ``module``; return how many."""
        with self._lock:
            keys = [k for k in self._specs if k[0] == module and (name is None or k[1] == name)]
            for k in keys:
                del self._specs[k]
        return len(keys)

    def action(self, module: str, name: str | None = None, *, process: bool = False) -> Callable[[F], F]:
        """Decorator form of :meth:`register`; ``name`` defaults to the function's."""

        def decorate(fn: F) -> F:
            self.register(module, name or fn.__name__, fn, process=process)
            return fn

        return decorate

    def allow(self, *prefixes: str) -> None:
        """Trust more module prefixes for ``module:function`` imports."""
        with self._lock:
            self.allow_imports.extend(p for p in prefixes if p not in self.allow_imports)

    # -- lookup ---------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        if not (isinstance(key, tuple) and len(key) == 2):
            return False
        return self.find(str(key[0]), str(key[1])) is not None

    def known(self) -> list[str]:
        """Every registered ``module.action``, sorted."""
        self._load_builtins()
        with self._lock:
            return sorted(f"{m}.{a}" for m, a in self._specs)

    def find(self, module: str, name: str) -> ActionSpec | None:
        """The spec for ``module.name``, or ``None``; never raises for a miss."""
        spec = self._specs.get((module, name))
        if spec is not None:
            return spec
        self._load_builtins()
        spec = self._specs.get((module, name))
        if spec is None and not self._entry_points_loaded:
            self._load_entry_points()
            spec = self._specs.get((module, name))
        if spec is None:
            spec = self._import_allowed(module, name)
        return spec

    def resolve(self, module: str, name: str, *, step: str | None = None) -> ActionSpec:
        """Like :meth:`find` but raise :class:`UnknownActionError` with close matches."""
        spec = self.find(module, name)
        if spec is None:
            raise self.unknown(module, name, step=step)
        return spec

    def unknown(self, module: str, name: str, *, step: str | None = None) -> UnknownActionError:
        """Build the error for a miss, naming the closest registered actions."""
        wanted = f"{module}.{name}"
        matches = difflib.get_close_matches(wanted, self.known(), n=3, cutoff=0.6)
        err = UnknownActionError(module, name, matches, step=step)
        if module.startswith(NOTEBOOK_MODULE_PREFIX):
            workflow = module[len(NOTEBOOK_MODULE_PREFIX):]
            err.args = (
                f"step {name!r} of workflow {workflow!r} was defined in a notebook cell; "
                "run that %%workflow cell again in this kernel before running it",
            )
        return err

    # -- loading ----------------------------------------------------------------
    def _load_builtins(self) -> None:
        if self._builtins_loaded:
            return
        with self._lock:
            if self._builtins_loaded:
                return
            self._builtins_loaded = True
            for modname in _BUILTIN_MODULES:
                mod = importlib.import_module(modname)
                mod.register(self)

    def _load_entry_points(self) -> None:
        with self._lock:
            if self._entry_points_loaded:
                return
            self._entry_points_loaded = True
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    loaded = ep.load()
                except Exception:  # a broken third-party pack must not break the rest
                    log.exception("could not load action entry point %s", ep.name)
                    continue
                if callable(loaded) and not inspect.ismodule(loaded):
                    loaded(self)

    def _allowed(self, module: str) -> bool:
        return any(
            module == p.rstrip(".") or module.startswith(p if p.endswith(".") else p + ".")
            for p in self.allow_imports
        )

    def _import_allowed(self, module: str, name: str) -> ActionSpec | None:
        if ":" in name:  # action given as "pkg.mod:function"
            module, name = name.split(":", 1)
        if not self._allowed(module):
            return None
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            log.warning("allowed import %s:%s failed: %s", module, name, exc)
            return None
        spec = ActionSpec.describe(module, name, fn)
        with self._lock:  # kept by this registry only (a scoped one keeps it to itself)
            self._specs[(module, name)] = spec
        return spec

    def scoped(self, allow_imports: Iterable[str]) -> ActionRegistry:
        """A registry that sees this one's actions and may also import from ``allow_imports``.

        What it imports stays in the scoped registry; registrations made
        through it go to this one, as before.
        """
        return ScopedRegistry(self, allow_imports)

    def resolve_reference(self, ref: str) -> ActionSpec:
        """Resolve ``"pkg.mod:function"`` (allowed prefixes only) or ``"module.action"``."""
        if ":" in ref:
            module, name = ref.split(":", 1)
        else:
            module, _, name = ref.rpartition(".")
        return self.resolve(module, name)


class ScopedRegistry(ActionRegistry):
    """See :meth:`ActionRegistry.scoped`."""

    def __init__(self, parent: ActionRegistry, allow_imports: Iterable[str]) -> None:
        super().__init__(allow_imports=allow_imports, load_builtins=False, load_entry_points=False)
        self.parent = parent

    def register(
        self, module: str, name: str, fn: Callable[..., Any], *, process: bool = False
    ) -> ActionSpec:
        """Register in the parent registry (registrations are shared)."""
        return self.parent.register(module, name, fn, process=process)

    def unregister(self, module: str, name: str | None = None) -> int:
        """Unregister from the parent (and forget what this scope imported of ``module``)."""
        super().unregister(module, name)
        return self.parent.unregister(module, name)

    def known(self) -> list[str]:
        """The parent's actions and those this scope imported."""
        with self._lock:
            own = {f"{m}.{a}" for m, a in self._specs}
        return sorted(own.union(self.parent.known()))

    def find(self, module: str, name: str) -> ActionSpec | None:
        """The parent's action, else one this scope imported or may import."""
        spec = self.parent.find(module, name)
        if spec is None:
            spec = self._specs.get((module, name)) or self._import_allowed(module, name)
        return spec


_default: ActionRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> ActionRegistry:
    """The process-wide registry used when none is given."""
    global _default  # noqa: PLW0603 - a process-wide singleton by design
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ActionRegistry()
    return _default


def action(module: str, name: str | None = None, *, process: bool = False) -> Callable[[F], F]:
    """Register a function as a step action in the default registry.

    Examples
    --------
    >>> @action("text", "shout")
    ... def shout(message: str) -> str:
    ...     return message.upper()
    """
    return default_registry().action(module, name, process=process)

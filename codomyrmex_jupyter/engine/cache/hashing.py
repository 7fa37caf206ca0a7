"""Content hashes of parameter values: the same data gives the same digest.

Why not ``hash()``, ``id()`` or ``repr()``: ``hash()`` of a string changes
with every interpreter (``PYTHONHASHSEED``), ``id()`` with every object, and
``repr()`` elides large containers and arrays. Why not ``pickle.dumps``: the
bytes of equal dicts depend on insertion order, and of equal sets on hash
order. Why not ``joblib.hash``: it is pickle with special cases and MD5, and
adds a dependency for what a hundred lines do here.

So values are written as a canonical, type-tagged byte stream into BLAKE2b
(``hashlib``, in the standard library; fast in C and collision resistant):

* ``None``, bools, ints, floats (``float.hex``, so ``0.1`` is exact), complex,
  strings and bytes by value, each behind a type tag and a length;
* lists and tuples element by element; dicts and sets by the sorted digests
  of their items, so order does not matter where the type says it does not;
* numpy arrays by dtype, shape and their data bytes in C order (object arrays
  element by element); numpy scalars by dtype and bytes;
* pandas objects with ``pandas.util.hash_pandas_object`` (pandas' own
  vectorised row hashing) plus their column names and dtypes;
* dates, decimals, UUIDs, paths by their canonical text; enums and
  dataclasses by class and content; functions, classes and modules by
  qualified name;
* any other object by its class and its ``__dict__``, or else its pickle.

A value that none of these fits (a lock, an open file, a cycle) raises
:class:`UnhashableValue`; the caller decides what that means (a step whose
parameter cannot be hashed is not cached).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import fractions
import hashlib
import pickle
import reprlib
import sys
import types
import uuid
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

__all__ = ["DIGEST_SIZE", "UnhashableValue", "digest", "short_repr"]

DIGEST_SIZE = 16  # bytes: 128 bits, printed as 32 hex digits


class UnhashableValue(TypeError):
    """A value has no stable content hash (its type is named in the message)."""


_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 4
_short.maxlevel = 2


def short_repr(value: Any, limit: int = 60) -> str:
    """A bounded ``repr`` for messages (never raises)."""
    if type(value) in _PLAIN:  # the common parameter values: repr is short and cannot fail
        text = repr(value)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    try:
        text = _short.repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break a message
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def digest(value: Any) -> str:
    """The content digest of ``value`` as 32 hex digits.

    Raises
    ------
    UnhashableValue
        The value (or something inside it) has no stable content.
    """
    simple = _SIMPLE.get(type(value))
    if simple is not None:  # the common case, without a writer object
        tag, encode = simple
        data = encode(value)
        return hashlib.blake2b(tag + str(len(data)).encode() + b":" + data,
                               digest_size=DIGEST_SIZE).hexdigest()
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    _Writer(h).write(value)
    return h.hexdigest()


def _sub_digest(value: Any, stack: set[int]) -> bytes:
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    _Writer(h, stack).write(value)
    return h.digest()


class _Writer:
    """Writes one value's canonical bytes into a hash object."""

    __slots__ = ("_h", "_stack")

    def __init__(self, h: Any, stack: set[int] | None = None) -> None:
        self._h = h
        self._stack = stack if stack is not None else set()

    def _put(self, tag: bytes, data: bytes) -> None:
        self._h.update(tag + str(len(data)).encode() + b":" + data)

    def write(self, value: Any) -> None:
        simple = _SIMPLE.get(type(value))
        if simple is not None:
            tag, encode = simple
            self._put(tag, encode(value))
            return
        if id(value) in self._stack:
            raise UnhashableValue(f"{type(value).__name__} contains itself")
        self._stack.add(id(value))
        try:
            self._write_compound(value)
        finally:
            self._stack.discard(id(value))

    def _write_compound(self, value: Any) -> None:
        if isinstance(value, list | tuple):
            self._put(b"L" if isinstance(value, list) else b"T", str(len(value)).encode())
            for item in value:
                self.write(item)
            return
        if isinstance(value, Mapping):
            pairs = sorted(
                _sub_digest(k, self._stack) + _sub_digest(v, self._stack) for k, v in value.items()
            )
            self._put(b"D", b"".join(pairs))
            return
        if isinstance(value, set | frozenset):
            self._put(b"S", b"".join(sorted(_sub_digest(v, self._stack) for v in value)))
            return
        module = type(value).__module__.partition(".")[0]
        if module == "numpy":
            self._write_numpy(value)
            return
        if module == "pandas":
            self._write_pandas(value)
            return
        text = _canonical_text(value)
        if text is not None:
            self._put(b"X", f"{_qualname(type(value))}={text}".encode())
            return
        self._write_object(value)

    def _write_numpy(self, value: Any) -> None:
        np = sys.modules["numpy"]
        if isinstance(value, np.ndarray):
            self._put(b"A", f"{value.dtype.str}{value.shape}".encode())
            if value.dtype.hasobject:
                self.write(value.ravel().tolist())
            else:
                self._h.update(np.ascontiguousarray(value).data)
            return
        if isinstance(value, np.generic):
            self._put(b"G", value.dtype.str.encode() + value.tobytes())
            return
        self._write_object(value)

    def _write_pandas(self, value: Any) -> None:
        pd = sys.modules["pandas"]
        if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
            self._put(b"P", _qualname(type(value)).encode())
            if isinstance(value, pd.DataFrame):
                self.write([str(c) for c in value.columns])
                self.write([str(t) for t in value.dtypes])
            else:
                self.write([str(getattr(value, "name", None)), str(value.dtype)])
            rows = pd.util.hash_pandas_object(value, index=not isinstance(value, pd.Index))
            self._h.update(rows.to_numpy().tobytes())
            return
        self._write_object(value)

    def _write_object(self, value: Any) -> None:
        cls = type(value)
        if isinstance(value, enum.Enum):
            self._put(b"E", _qualname(cls).encode())
            self.write(value.value)
            return
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            self._put(b"C", _qualname(cls).encode())
            self.write({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
            return
        if isinstance(value, type | types.FunctionType | types.BuiltinFunctionType | types.ModuleType):
            name = getattr(value, "__qualname__", None) or value.__name__
            self._put(b"N", f"{getattr(value, '__module__', '')}.{name}".encode())
            return
        state = getattr(value, "__dict__", None)
        if isinstance(state, dict) and state:
            self._put(b"O", _qualname(cls).encode())
            self.write(state)
            return
        try:
            data = pickle.dumps(value, protocol=5)
        except Exception as exc:  # noqa: BLE001 - any pickling failure means "no stable content"
            raise UnhashableValue(f"{_qualname(cls)} has no stable content to hash ({exc})") from None
        self._put(b"K", data)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _canonical_text(value: Any) -> str | None:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return repr(value.total_seconds())
    if isinstance(value, decimal.Decimal | fractions.Fraction | uuid.UUID | PurePath | range):
        return repr(value)
    return None


def _int_bytes(value: int) -> bytes:
    return str(value).encode()


_PLAIN = frozenset({type(None), bool, int, float})

_SIMPLE: dict[type, tuple[bytes, Callable[[Any], bytes]]] = {
    type(None): (b"n", lambda v: b""),
    bool: (b"b", lambda v: b"1" if v else b"0"),
    int: (b"i", _int_bytes),
    float: (b"f", lambda v: float.hex(v).encode()),
    complex: (b"c", lambda v: f"{float.hex(v.real)},{float.hex(v.imag)}".encode()),
    str: (b"s", lambda v: v.encode("utf-8", "surrogatepass")),
    bytes: (b"y", lambda v: v),
    bytearray: (b"y", bytes),
    memoryview: (b"y", bytes),
}

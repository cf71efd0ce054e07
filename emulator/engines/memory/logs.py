"""Log: an append-only list that also drops from its front in amortised O(1), for indexes whose
oldest entries leave first (the retention limit evicts the oldest message)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class Log(Sequence[T], Generic[T]):
    __slots__ = ("_items", "_start")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._start = 0

    def append(self, item: T) -> None:
        self._items.append(item)

    def __len__(self) -> int:
        return len(self._items) - self._start

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return self._items[self._start + start : self._start + stop : step]
        return self._items[self._start + _position(index, len(self))]

    def __iter__(self) -> Iterator[T]:
        return islice(self._items, self._start, None)

    def __reversed__(self) -> Iterator[T]:
        items = self._items
        return (items[i] for i in range(len(items) - 1, self._start - 1, -1))

    def first(self) -> T:
        return self._items[self._start]

    def drop_first(self) -> None:
        self._start += 1
        if self._start >= 64 and self._start * 2 >= len(self._items):
            del self._items[: self._start]  # compact once half is dead: amortised O(1)
            self._start = 0

    def bisect_left(self, value: Any, key: Callable[[T], Any]) -> int:
        return bisect_left(self._items, value, lo=self._start, key=key) - self._start

    def bisect_right(self, value: Any, key: Callable[[T], Any]) -> int:
        return bisect_right(self._items, value, lo=self._start, key=key) - self._start


class View(Sequence[T], Generic[T]):
    """log[lo:hi] without copying; reversed() and slices stay cheap."""

    __slots__ = ("_log", "_lo", "_hi")

    def __init__(self, log: Sequence[T], lo: int, hi: int) -> None:
        self._log, self._lo, self._hi = log, lo, max(lo, hi)

    def __len__(self) -> int:
        return self._hi - self._lo

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return list(self._log[self._lo + start : self._lo + stop : step])
        return self._log[self._lo + _position(index, len(self))]

    def __iter__(self) -> Iterator[T]:
        return (self._log[i] for i in range(self._lo, self._hi))

    def __reversed__(self) -> Iterator[T]:
        return (self._log[i] for i in range(self._hi - 1, self._lo - 1, -1))


def _position(index: int, length: int) -> int:
    """A sequence index (negative from the end) as an offset, or IndexError."""
    position = index + length if index < 0 else index
    if not 0 <= position < length:
        raise IndexError(index)
    return position


EMPTY: Log[Any] = Log()

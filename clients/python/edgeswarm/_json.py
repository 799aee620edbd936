"""@internal Reading the API's JSON answers field by field.

Each answer is checked as it is read: a missing field or a wrong type is an
``EdgeswarmInvalidResponseError`` naming where, never a ``KeyError`` from deep
inside a caller's code.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, TypeVar

from .errors import EdgeswarmInvalidResponseError

T = TypeVar("T")


class Obj:
    """One JSON object of an answer, with the path that leads to it (for messages)."""

    __slots__ = ("data", "where")

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise EdgeswarmInvalidResponseError(f"{where}: expected an object, got {_kind(data)}")
        self.data: Dict[str, Any] = data
        self.where = where

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}"

    def _get(self, key: str, optional: bool) -> Any:
        if key not in self.data:
            if optional:
                return None
            raise EdgeswarmInvalidResponseError(f"{self._at(key)}: missing")
        return self.data[key]

    def _typed(self, key: str, check: Callable[[Any], bool], what: str, nullable: bool, optional: bool) -> Any:
        value = self._get(key, optional)
        if value is None and (nullable or optional):
            return None
        if not check(value):
            raise EdgeswarmInvalidResponseError(f"{self._at(key)}: expected {what}, got {_kind(value)}")
        return value

    def string(self, key: str) -> str:
        return self._typed(key, _is_str, "a string", False, False)

    def opt_string(self, key: str) -> Optional[str]:
        """A string that may be null or absent."""
        return self._typed(key, _is_str, "a string", True, True)

    def integer(self, key: str) -> int:
        return int(self._typed(key, _is_int, "a whole number", False, False))

    def opt_integer(self, key: str) -> Optional[int]:
        value = self._typed(key, _is_int, "a whole number", True, True)
        return None if value is None else int(value)

    def number(self, key: str) -> float:
        return self._typed(key, _is_num, "a number", False, False)

    def boolean(self, key: str) -> bool:
        return self._typed(key, _is_bool, "true or false", False, False)

    def obj(self, key: str) -> "Obj":
        return Obj(self._get(key, False), self._at(key))

    def opt_obj(self, key: str) -> Optional["Obj"]:
        value = self._get(key, True)
        return None if value is None else Obj(value, self._at(key))

    def raw(self, key: str) -> Any:
        """Any JSON value, unchecked (payloads, details); None when absent."""
        return self._get(key, True)

    def string_map(self, key: str) -> Dict[str, str]:
        value = self._typed(key, lambda v: isinstance(v, dict), "an object", False, False)
        for k, v in value.items():
            if not _is_str(v):
                raise EdgeswarmInvalidResponseError(f"{self._at(key)}.{k}: expected a string, got {_kind(v)}")
        return dict(value)

    def opt_string_map(self, key: str) -> Optional[Dict[str, str]]:
        return None if self._get(key, True) is None else self.string_map(key)

    def objects(self, key: str, item: Callable[["Obj"], T]) -> List[T]:
        """A list of objects, each read by ``item``."""
        value = self._typed(key, lambda v: isinstance(v, list), "a list", False, False)
        return [item(Obj(v, f"{self._at(key)}[{i}]")) for i, v in enumerate(value)]

    def opt_objects(self, key: str, item: Callable[["Obj"], T]) -> Optional[List[T]]:
        return None if self._get(key, True) is None else self.objects(key, item)

    def strings(self, key: str) -> List[str]:
        value = self._typed(key, lambda v: isinstance(v, list), "a list", False, False)
        for i, v in enumerate(value):
            if not _is_str(v):
                raise EdgeswarmInvalidResponseError(f"{self._at(key)}[{i}]: expected a string, got {_kind(v)}")
        return list(value)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_int(v: Any) -> bool:
    # JSON has one number type: 3.0 is a whole number too; a bool is not a number.
    return not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))


def _is_num(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float))


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    return "an object" if isinstance(v, dict) else type(v).__name__

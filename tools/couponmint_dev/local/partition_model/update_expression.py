"""UpdateItem's "after" image: the update expression applied to the item before.

SET with `+`, `-`, `if_not_exists` and `list_append`, REMOVE, ADD, DELETE, on nested paths too, parsed with
the grammar AWS documents ("Update expressions", developerguide/Expressions.UpdateExpressions.html). An
expression it cannot evaluate raises UpdateNotEvaluated; the caller then charges the item as it was, which
undercharges at most that one write.
"""

import copy
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from couponmint_dev.local.partition_model.item_size import Item


class UpdateNotEvaluated(ValueError):
    """The update expression uses something `apply_update` does not evaluate."""


_TOKEN = re.compile(r"\s*(?:(?P<value>:[A-Za-z0-9_]+)|(?P<name>#?[A-Za-z0-9_]+)|(?P<punct>[.\[\],=+\-()]))")
_CLAUSES = {"SET", "REMOVE", "ADD", "DELETE"}


def apply_update(
    item: Mapping[str, Any] | None,
    key: Mapping[str, Any],
    expression: str | None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Item:
    """The item after an UpdateItem (an update creates the item when it does not exist yet).

    Raises UpdateNotEvaluated for syntax it does not know; the caller then keeps the item as it was.
    """
    result: Item = copy.deepcopy(dict(item)) if item else dict(key)
    if not expression:
        return result
    parser = _UpdateParser(expression, names or {}, values or {})
    for clause, action in parser.actions():
        if clause == "SET":
            path, operand = action
            _assign(result, path, parser.evaluate(operand, result))
        elif clause == "REMOVE":
            _remove(result, action)
        elif clause == "ADD":
            path, value = action
            _add(result, path, value)
        else:  # DELETE
            path, value = action
            _delete_from_set(result, path, value)
    return result


Path = list[str | int]


class _UpdateParser:
    """A small recursive-descent parser for UpdateExpression (its grammar as AWS documents it)."""

    def __init__(self, expression: str, names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        self.tokens = self._tokenize(expression)
        self.position = 0
        self.names, self.values = names, values

    @staticmethod
    def _tokenize(expression: str) -> list[str]:
        tokens, position = [], 0
        while position < len(expression):
            match = _TOKEN.match(expression, position)
            if match is None or match.end() == position:
                if expression[position:].strip() == "":
                    break
                raise UpdateNotEvaluated(f"cannot read {expression[position:]!r}")
            tokens.append(match.group(match.lastgroup or "punct"))
            position = match.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> str:
        token = self._peek()
        if token is None:
            raise UpdateNotEvaluated("unexpected end of the update expression")
        self.position += 1
        return token

    def _expect(self, token: str) -> None:
        if self._next() != token:
            raise UpdateNotEvaluated(f"expected {token!r}")

    def actions(self) -> Iterator[tuple[str, Any]]:
        while self._peek() is not None:
            clause = self._next().upper()
            if clause not in _CLAUSES:
                raise UpdateNotEvaluated(f"unknown clause {clause!r}")
            while True:
                if clause == "SET":
                    path = self._path()
                    self._expect("=")
                    yield clause, (path, self._operand_expression())
                elif clause == "REMOVE":
                    yield clause, self._path()
                else:
                    yield clause, (self._path(), self._value())
                if self._peek() != ",":
                    break
                self._next()

    def _path(self) -> Path:
        path: Path = [self._name(self._next())]
        while self._peek() in (".", "["):
            if self._next() == ".":
                path.append(self._name(self._next()))
            else:
                path.append(int(self._next()))
                self._expect("]")
        return path

    def _name(self, token: str) -> str:
        if token.startswith("#"):
            if token not in self.names:
                raise UpdateNotEvaluated(f"{token} is not in ExpressionAttributeNames")
            return self.names[token]
        return token

    def _value(self) -> Any:
        token = self._next()
        if not token.startswith(":") or token not in self.values:
            raise UpdateNotEvaluated(f"expected a value, found {token!r}")
        return self.values[token]

    # An operand expression is kept as a small tree and evaluated against the item as it is at that point.
    def _operand_expression(self) -> tuple[Any, ...]:
        left = self._operand()
        if self._peek() in ("+", "-"):
            operator = self._next()
            return ("arith", operator, left, self._operand())
        return left

    def _operand(self) -> tuple[Any, ...]:
        token = self._peek()
        if token is None:
            raise UpdateNotEvaluated("missing operand")
        if token.startswith(":"):
            return ("value", self._value())
        lowered = token.lower()
        if lowered in ("if_not_exists", "list_append") and self.tokens[self.position + 1 : self.position + 2] == ["("]:
            self._next()
            self._expect("(")
            if lowered == "if_not_exists":
                path = self._path()
                self._expect(",")
                fallback = self._operand()
                self._expect(")")
                return ("if_not_exists", path, fallback)
            first = self._operand()
            self._expect(",")
            second = self._operand()
            self._expect(")")
            return ("list_append", first, second)
        return ("path", self._path())

    def evaluate(self, operand: tuple[Any, ...], item: Item) -> Any:
        kind = operand[0]
        if kind == "value":
            return operand[1]
        if kind == "path":
            found = _resolve(item, operand[1])
            if found is None:
                raise UpdateNotEvaluated("the update reads an attribute the item does not have")
            return found
        if kind == "if_not_exists":
            found = _resolve(item, operand[1])
            return found if found is not None else self.evaluate(operand[2], item)
        if kind == "list_append":
            first, second = self.evaluate(operand[1], item), self.evaluate(operand[2], item)
            return {"L": [*first["L"], *second["L"]]}
        _, operator, left, right = operand
        a, b = Decimal(self.evaluate(left, item)["N"]), Decimal(self.evaluate(right, item)["N"])
        return {"N": _number_text(a + b if operator == "+" else a - b)}


def _number_text(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _resolve(item: Any, path: Path) -> Any:
    """The value at `path` (wire form), or None."""
    current: Any = {"M": item}
    for step in path:
        if isinstance(step, int):
            elements = current.get("L") if isinstance(current, dict) else None
            if elements is None or step >= len(elements):
                return None
            current = elements[step]
        else:
            members = current.get("M") if isinstance(current, dict) else None
            if members is None or step not in members:
                return None
            current = members[step]
    return current


def _container(item: Item, path: Path) -> Any:
    """The map's members dict or the list that holds `path`'s last step."""
    parent = _resolve(item, path[:-1]) if len(path) > 1 else {"M": item}
    if parent is None:
        raise UpdateNotEvaluated("the update's path does not exist")
    if isinstance(path[-1], int):
        if "L" not in parent:
            raise UpdateNotEvaluated("an index into something that is not a list")
        return parent["L"]
    if "M" not in parent:
        raise UpdateNotEvaluated("a member of something that is not a map")
    return parent["M"]


def _assign(item: Item, path: Path, value: Any) -> None:
    container, last = _container(item, path), path[-1]
    if isinstance(last, int):
        if last < len(container):
            container[last] = copy.deepcopy(value)
        else:
            container.append(copy.deepcopy(value))
    else:
        container[last] = copy.deepcopy(value)


def _remove(item: Item, path: Path) -> None:
    try:
        container = _container(item, path)
    except UpdateNotEvaluated:
        return  # removing what is not there changes nothing
    last = path[-1]
    if isinstance(last, int):
        if last < len(container):
            del container[last]
    else:
        container.pop(last, None)


_SET_KINDS = ("SS", "NS", "BS")


def _add(item: Item, path: Path, value: Mapping[str, Any]) -> None:
    current = _resolve(item, path)
    if "N" in value:
        base = Decimal(current["N"]) if current and "N" in current else Decimal(0)
        _assign(item, path, {"N": _number_text(base + Decimal(value["N"]))})
        return
    kind = next((k for k in _SET_KINDS if k in value), None)
    if kind is None:
        raise UpdateNotEvaluated("ADD takes a number or a set")
    merged = list(current[kind]) if current and kind in current else []
    merged += [element for element in value[kind] if element not in merged]
    _assign(item, path, {kind: merged})


def _delete_from_set(item: Item, path: Path, value: Mapping[str, Any]) -> None:
    current = _resolve(item, path)
    kind = next((k for k in _SET_KINDS if k in value), None)
    if current is None or kind is None or kind not in current:
        return
    remaining = [element for element in current[kind] if element not in value[kind]]
    if remaining:
        _assign(item, path, {kind: remaining})
    else:
        _remove(item, path)

"""PartiQL statements read as the item writes they make (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction).

DynamoDB's PartiQL ("PartiQL - a SQL-compatible query language for Amazon DynamoDB", developerguide/
ql-reference.html and its insert / update / delete / select pages):
- `INSERT INTO "table" VALUE {'name': value, ...}`: a new item (`DuplicateItem` when one exists, and then
  nothing is written: DynamoDB Local says so itself). Read here as an item put over no item.
- `UPDATE "table" SET path = value [, | SET ...] [REMOVE path ...] WHERE key = value AND ... [RETURNING ...]`:
  one item, named by its whole key; read as the UpdateItem of the same SET / REMOVE / ADD (`set_add`) /
  DELETE (`set_delete`) actions, with `+`, `-` and `list_append`.
- `DELETE FROM "table" WHERE key = value AND ... [RETURNING ...]`: one item, read as its DeleteItem.
- `SELECT ...`: a read (None here); `EXISTS(SELECT ...)` in a transaction: a condition check, no write.
Values are `?` (the next of the request's `Parameters`, already in wire form), 'strings', numbers, TRUE,
FALSE, NULL, [lists], {'maps': ...} and <<sets>>. Anything else raises StatementNotModelled, and the proxy
counts the statement as unmodelled rather than letting it pass as if it cost nothing.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

ItemWrite = tuple[str, Mapping[str, Any]]
KeyNames = Callable[[str], tuple[str, ...]]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
     |(?P<quoted>"(?:[^"]|"")*")
     |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
     |(?P<punct><<|>>|<>|<=|>=|!=|[=<>+\-.,:{}\[\]()?*])
     |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_LITERALS = {"TRUE": {"BOOL": True}, "FALSE": {"BOOL": False}, "NULL": {"NULL": True}}


class StatementNotModelled(ValueError):
    """A statement the model cannot read as item writes."""


class _Token(str):
    """A lexeme's text, and whether it was quoted (a quoted identifier or a string is never a keyword)."""

    kind: str

    def __new__(cls, text: str, kind: str) -> "_Token":
        lexeme = super().__new__(cls, text)
        lexeme.kind = kind
        return lexeme


def statement_write(text: str, parameters: Sequence[Mapping[str, Any]], key_names: KeyNames) -> ItemWrite | None:
    """The item write of one statement, or None for a read. `key_names(table)` gives the table's key attributes."""
    return _Statement(text, parameters, key_names).read()


class _Statement:
    def __init__(self, text: str, parameters: Sequence[Mapping[str, Any]], key_names: KeyNames) -> None:
        self.tokens = _tokenize(text)
        self.position = 0
        self.parameters = list(parameters)
        self.used = 0
        self.key_names = key_names
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    # ------------------------------------------------------------------ statements
    def read(self) -> ItemWrite | None:
        verb = self._keyword()
        if verb == "SELECT":
            return None
        if verb == "INSERT":
            self._expect_keyword("INTO")
            table = self._identifier()
            self._expect_keyword("VALUE")
            item = self._value()
            if "M" not in item:
                raise StatementNotModelled("INSERT takes one item, a {map}")
            self._end()
            return "InsertItem", {"TableName": table, "Item": item["M"]}
        if verb == "UPDATE":
            table = self._identifier()
            expression = self._update_actions()
            return "UpdateItem", {
                "TableName": table,
                "Key": self._where(table),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": self.names,
                "ExpressionAttributeValues": self.values,
            }
        if verb == "EXISTS":
            # A transaction's condition check (ExecuteTransaction): it writes nothing.
            self._expect("(")
            self._expect_keyword("SELECT")
            while self._keyword() != "FROM":
                pass
            return "ConditionCheck", {"TableName": self._identifier()}
        if verb == "DELETE":
            self._expect_keyword("FROM")
            table = self._identifier()
            return "DeleteItem", {"TableName": table, "Key": self._where(table)}
        raise StatementNotModelled(f"{verb} statements are not modelled")

    def _update_actions(self) -> str:
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        clause = self._keyword()
        while clause in ("SET", "REMOVE"):
            while True:
                path = self._path()
                if clause == "REMOVE":
                    clauses["REMOVE"].append(path)
                else:
                    self._expect("=")
                    self._set_action(path, clauses)
                if self._peek() != ",":
                    break
                self._next()
            clause = self._keyword()
        if clause != "WHERE":
            raise StatementNotModelled(f"expected WHERE, found {clause}")
        if not any(clauses.values()):
            raise StatementNotModelled("an UPDATE without SET or REMOVE")
        return " ".join(f"{name} {', '.join(actions)}" for name, actions in clauses.items() if actions)

    def _set_action(self, path: str, clauses: dict[str, list[str]]) -> None:
        function = self._peek()
        if function is not None and function.kind == "word" and function.lower() in ("set_add", "set_delete"):
            self._next()
            self._expect("(")
            if self._path() != path:
                raise StatementNotModelled(f"{function} of another attribute")
            self._expect(",")
            clauses["ADD" if function.lower() == "set_add" else "DELETE"].append(f"{path} {self._placeholder()}")
            self._expect(")")
            return
        left = self._operand()
        if self._peek() in ("+", "-"):
            operator = self._next()
            left = f"{left} {operator} {self._operand()}"
        clauses["SET"].append(f"{path} = {left}")

    def _operand(self) -> str:
        lexeme = self._peek()
        if lexeme is not None and lexeme.kind == "word" and lexeme.lower() == "list_append":
            self._next()
            self._expect("(")
            first = self._operand()
            self._expect(",")
            second = self._operand()
            self._expect(")")
            return f"list_append({first}, {second})"
        is_name = lexeme is not None and lexeme.kind in ("quoted", "word") and lexeme.upper() not in _LITERALS
        if is_name:
            return self._path()
        return self._placeholder()

    def _where(self, table: str) -> dict[str, Any]:
        """The item's key from the WHERE clause's equalities (other conditions are passed over)."""
        if self._peek_keyword() == "WHERE":
            self._next()
        equal: dict[str, Any] = {}
        while True:
            name = self._peek()
            followed_by = self.tokens[self.position + 1 : self.position + 2]
            if name is not None and name.kind in ("word", "quoted") and followed_by == ["="]:
                attribute = self._identifier()
                self._next()
                equal[attribute] = self._value()
            self._skip_condition()
            if self._peek_keyword() != "AND":
                break
            self._next()
        if self._peek_keyword() == "RETURNING":
            self.position = len(self.tokens)
        self._end()
        names = self.key_names(table)
        if not all(name in equal for name in names):
            raise StatementNotModelled("the WHERE clause does not name the item's whole key")
        return {name: equal[name] for name in names}

    def _skip_condition(self) -> None:
        """Pass over the rest of a condition, up to AND or RETURNING at its level (counting its parameters)."""
        depth = 0
        while (lexeme := self._peek()) is not None:
            word = lexeme.upper() if lexeme.kind == "word" else None
            if depth == 0 and word in ("AND", "RETURNING"):
                return
            if depth == 0 and word == "OR":
                raise StatementNotModelled("a WHERE clause with OR")
            depth += {"(": 1, "[": 1, "{": 1, "<<": 1, ")": -1, "]": -1, "}": -1, ">>": -1}.get(lexeme, 0)
            if lexeme == "?":
                self._parameter()
            else:
                self._next()

    # ------------------------------------------------------------------ values and names
    def _value(self) -> dict[str, Any]:
        if self._peek() == "?":
            return self._parameter()
        lexeme = self._next()
        if lexeme.kind == "string":
            return {"S": lexeme[1:-1].replace("''", "'")}
        if lexeme.kind == "number":
            return {"N": str(lexeme)}
        if lexeme == "-" and (number := self._next()).kind == "number":
            return {"N": f"-{number}"}
        if lexeme.kind == "word" and lexeme.upper() in _LITERALS:
            return dict(_LITERALS[lexeme.upper()])
        if lexeme in ("[", "<<"):
            elements = self._elements("]" if lexeme == "[" else ">>")
            return {"L": elements} if lexeme == "[" else _set_of(elements)
        if lexeme == "{":
            members: dict[str, Any] = {}
            while self._peek() != "}":
                name = self._next()
                if name.kind != "string":
                    raise StatementNotModelled("a map's names are 'strings'")
                self._expect(":")
                members[name[1:-1].replace("''", "'")] = self._value()
                if self._peek() == ",":
                    self._next()
            self._next()
            return {"M": members}
        raise StatementNotModelled(f"cannot read the value {lexeme!r}")

    def _elements(self, closing: str) -> list[dict[str, Any]]:
        elements = []
        while self._peek() != closing:
            elements.append(self._value())
            if self._peek() == ",":
                self._next()
        self._next()
        return elements

    def _parameter(self) -> dict[str, Any]:
        self._expect("?")
        if self.used >= len(self.parameters):
            raise StatementNotModelled("more ? than Parameters")
        self.used += 1
        return dict(self.parameters[self.used - 1])

    def _placeholder(self) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = self._value()
        return placeholder

    def _path(self) -> str:
        parts = [self._name(self._identifier())]
        while self._peek() in (".", "["):
            if self._next() == ".":
                parts.append("." + self._name(self._identifier()))
            else:
                index = self._next()
                if index.kind != "number":
                    raise StatementNotModelled("a list index must be a number")
                self._expect("]")
                parts.append(f"[{index}]")
        return "".join(parts)

    def _name(self, attribute: str) -> str:
        placeholder = next((p for p, name in self.names.items() if name == attribute), f"#n{len(self.names)}")
        self.names[placeholder] = attribute
        return placeholder

    def _identifier(self) -> str:
        lexeme = self._next()
        if lexeme.kind == "quoted":
            return lexeme[1:-1].replace('""', '"')
        if lexeme.kind == "word":
            return str(lexeme)
        raise StatementNotModelled(f"expected a name, found {lexeme!r}")

    # ------------------------------------------------------------------ tokens
    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _peek_keyword(self) -> str | None:
        lexeme = self._peek()
        return lexeme.upper() if lexeme is not None and lexeme.kind == "word" else None

    def _next(self) -> _Token:
        lexeme = self._peek()
        if lexeme is None:
            raise StatementNotModelled("the statement ends too soon")
        self.position += 1
        return lexeme

    def _keyword(self) -> str | None:
        if self._peek() is None:
            return None
        lexeme = self._next()
        return lexeme.upper() if lexeme.kind == "word" else str(lexeme)

    def _expect_keyword(self, keyword: str) -> None:
        if self._keyword() != keyword:
            raise StatementNotModelled(f"expected {keyword}")

    def _expect(self, text: str) -> None:
        if self._next() != text:
            raise StatementNotModelled(f"expected {text!r}")

    def _end(self) -> None:
        if self._peek() is not None:
            raise StatementNotModelled(f"unexpected {self._peek()!r}")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() in ("", ";"):
                break
            raise StatementNotModelled(f"cannot read {text[position : position + 20]!r}")
        kind = match.lastgroup or "punct"
        tokens.append(_Token(match.group(kind), kind))
        position = match.end()
    return tokens


def _set_of(elements: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = {kind for element in elements for kind in element}
    if len(kinds) != 1 or not kinds <= {"S", "N", "B"}:
        raise StatementNotModelled("a set holds strings, numbers or binaries of one kind")
    (kind,) = kinds
    return {f"{kind}S": [element[kind] for element in elements]}

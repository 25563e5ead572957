"""docs/data-model.md stays in step with the key functions of adapters/keys.py."""

import ast
import inspect
import re
from pathlib import Path
from typing import Any

from couponmint.adapters import keys

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the markdown table under `## heading` (header and separator left out)."""
    section = DOC.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def unquote(cell: str) -> str:
    return cell.strip("`")


def evaluate(example: str) -> Any:
    """`name(literal, ...)` or `NAME`, looked up in adapters/keys.py (nothing else is evaluated)."""
    expression = ast.parse(unquote(example), mode="eval").body
    if isinstance(expression, ast.Name):
        return getattr(keys, expression.id)
    assert isinstance(expression, ast.Call) and isinstance(expression.func, ast.Name), example
    arguments = [ast.literal_eval(argument) for argument in expression.args]
    return getattr(keys, expression.func.id)(*arguments)


def named_in(example: str) -> str:
    return re.split(r"[(`]", unquote(example))[0]


def test_data_model_items_match_the_key_functions() -> None:
    # Given every row of the Items table
    rows = table_rows("Items")
    assert len(rows) >= 10
    for _item, example, pk, sk, _owner in rows:
        # When its example is evaluated by the code
        key = evaluate(example)
        # Then the code gives the documented pk and sk
        assert key == {"pk": unquote(pk), "sk": unquote(sk)}, example


def test_data_model_index_entries_match_the_key_functions() -> None:
    for _index, _item, example, partition, _sort, _owner in table_rows("Index entries"):
        assert evaluate(example) == unquote(partition), example


def test_data_model_names_every_key_function() -> None:
    # Given the key builders of adapters/keys.py (functions and index partition constants)
    builders = {
        name
        for name, value in vars(keys).items()
        if (inspect.isfunction(value) and value.__module__ == keys.__name__ and name.endswith(("_key", "_pk")))
        or (isinstance(value, str) and name.isupper() and not name.endswith("PREFIX"))
    } - {"store_pk"}
    # Then each appears in an example of the page
    documented = {named_in(row[1]) for row in table_rows("Items")} | {
        named_in(row[2]) for row in table_rows("Index entries")
    }
    assert builders == documented

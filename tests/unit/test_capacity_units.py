"""Write-unit arithmetic of the partition model (couponmint_dev.local.capacity) against AWS's documented rules."""

import base64

import pytest

from couponmint_dev.local.capacity import (
    Charge,
    IndexSchema,
    TableSchema,
    UpdateNotEvaluated,
    apply_update,
    item_size,
    number_size,
    write_charges,
    write_units,
)

# The shape of couponmint's table (template.yaml): pk/sk, gsi1 (codes of a promotion), sparse gsi2 (open jobs).
TABLE = TableSchema(
    name="t",
    hash_key="pk",
    range_key="sk",
    indexes=(IndexSchema("gsi1", "gsi1pk", "gsi1sk"), IndexSchema("gsi2", "gsi2pk", "gsi2sk")),
)


def s(text: str) -> dict[str, str]:
    return {"S": text}


def n(number: int | str) -> dict[str, str]:
    return {"N": str(number)}


# ------------------------------------------------------------------ item sizes ("DynamoDB item sizes and formats")
def test_size_is_names_plus_values() -> None:
    # AWS's example: "shirt-color" = "R" and "shirt-size" = "M" make a 23-byte item (11 + 1 + 10 + 1)
    assert item_size({"shirt-color": s("R"), "shirt-size": s("M")}) == 23


def test_strings_count_utf8_bytes() -> None:
    assert item_size({"name": s("é€")}) == 4 + 2 + 3


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("7", 2),  # one significant digit: 1 byte per two digits, plus 1
        ("123", 3),
        ("1234", 3),
        ("1000", 2),  # trailing zeros trimmed
        ("0.0001", 2),  # leading zeros trimmed
        ("-12.5", 3),
        ("12345678901234567890", 11),
    ],
)
def test_numbers_take_a_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size


def test_binary_counts_raw_bytes_not_base64() -> None:
    raw = bytes(range(10))
    assert item_size({"b": {"B": base64.b64encode(raw).decode()}}) == 1 + 10


def test_booleans_and_nulls_are_one_byte() -> None:
    assert item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == (2 + 1) + (2 + 1)


def test_lists_and_maps_take_three_bytes_plus_a_byte_per_element() -> None:
    assert item_size({"m": {"M": {}}}) == 1 + 3
    assert item_size({"m": {"M": {"a": s("xy")}}}) == 1 + 3 + (1 + 2 + 1)
    assert item_size({"l": {"L": [s("ab"), n(1)]}}) == 1 + 3 + (2 + 1) + (2 + 1)
    nested = {"m": {"M": {"in": {"L": [s("a")]}}}}
    assert item_size(nested) == 1 + 3 + (2 + (3 + 1 + 1) + 1)


def test_sets_are_the_sum_of_their_elements() -> None:
    assert item_size({"ss": {"SS": ["ab", "c"]}, "ns": {"NS": ["10", "123"]}}) == (2 + 3) + (2 + 2 + 3)


# ------------------------------------------------------------------ write units ("DynamoDB read and write operations")
@pytest.mark.parametrize(
    ("size", "standard", "transactional"),
    [(0, 1, 2), (1, 1, 2), (500, 1, 2), (1024, 1, 2), (1025, 2, 4), (1536, 2, 4), (3584, 4, 8), (400 * 1024, 400, 800)],
)
def test_a_write_costs_a_unit_per_started_kb_twice_in_a_transaction(
    size: int, standard: int, transactional: int
) -> None:
    assert write_units(size) == standard
    assert write_units(size, transactional=True) == transactional


def test_batch_items_are_rounded_up_one_by_one() -> None:
    # AWS's example: a BatchWriteItem of a 500-byte item and a 3.5 KB item costs 1 + 4 = 5 units, not 4
    assert write_units(500) + write_units(3584) == 5 != write_units(500 + 3584)


# ------------------------------------------------------------------ what a write is charged, and where
def code_item(code: str, promotion: str = "STORE#s#PROMOTION#1", code_id: int = 1, **extra: dict[str, str]) -> dict:
    return {
        "pk": s(f"STORE#s#CODE#{code}"),
        "sk": s("CODE"),
        "gsi1pk": s(promotion),
        "gsi1sk": n(code_id),
        "code": s(code),
        "batch_id": s("b" * 32),
        **extra,
    }


def test_a_new_code_is_charged_on_its_own_key_and_on_the_promotions_index_key() -> None:
    charges = write_charges(TABLE, None, code_item("ABC"), transactional=True)
    assert list(charges) == [
        Charge("t", None, "STORE#s#CODE#ABC", 2),  # transactional: 2 units per KB
        Charge("t", "gsi1", "STORE#s#PROMOTION#1", 1),  # the index entry: a standard write
    ]
    assert charges.units == 3


def test_an_item_without_the_index_key_writes_nothing_to_the_sparse_index() -> None:
    stats = {"pk": s("STORE#s"), "sk": s("STATS"), "code_count": n(5)}
    charges = write_charges(TABLE, None, stats, transactional=False)
    assert list(charges) == [Charge("t", None, "STORE#s", 1)]


def test_an_update_is_charged_on_the_larger_of_the_item_before_and_after() -> None:
    big = {"pk": s("k"), "sk": s("BATCH"), "codes": {"SS": [f"CODE{i:014d}" for i in range(250)]}}
    small = {"pk": s("k"), "sk": s("BATCH"), "status": s("DONE")}
    assert item_size(big) > 4 * 1024
    assert [c.units for c in write_charges(TABLE, big, small, transactional=False)] == [5]
    assert [c.units for c in write_charges(TABLE, small, big, transactional=True)] == [10]


def test_changing_an_index_key_costs_a_delete_on_the_old_key_and_a_put_on_the_new() -> None:
    before = code_item("ABC", promotion="STORE#s#PROMOTION#1")
    after = code_item("ABC", promotion="STORE#s#PROMOTION#2")
    assert list(write_charges(TABLE, before, after, transactional=False)) == [
        Charge("t", None, "STORE#s#CODE#ABC", 1),
        Charge("t", "gsi1", "STORE#s#PROMOTION#1", 1),
        Charge("t", "gsi1", "STORE#s#PROMOTION#2", 1),
    ]


def test_changing_the_index_sort_key_is_a_delete_and_a_put_on_the_same_partition_key() -> None:
    before, after = code_item("ABC", code_id=1), code_item("ABC", code_id=2)
    index_charges = [c for c in write_charges(TABLE, before, after, transactional=False) if c.index]
    assert [(c.key, c.units) for c in index_charges] == [("STORE#s#PROMOTION#1", 1), ("STORE#s#PROMOTION#1", 1)]


def test_changing_a_projected_attribute_is_one_index_write_and_an_unchanged_entry_none() -> None:
    before = code_item("ABC")
    after = code_item("ABC", uses=n(1))
    assert [c.index for c in write_charges(TABLE, before, after, transactional=False)] == [None, "gsi1"]
    assert [c.index for c in write_charges(TABLE, before, dict(before), transactional=False)] == [None]


def test_removing_the_sparse_index_key_deletes_the_entry() -> None:
    job = {"pk": s("STORE#s#JOB#j"), "sk": s("JOB"), "gsi2pk": s("OPEN_JOBS"), "gsi2sk": n(1700000000000)}
    finished = {"pk": s("STORE#s#JOB#j"), "sk": s("JOB"), "status": s("COMPLETED")}
    assert list(write_charges(TABLE, job, finished, transactional=False)) == [
        Charge("t", None, "STORE#s#JOB#j", 1),
        Charge("t", "gsi2", "OPEN_JOBS", 1),
    ]


def test_a_delete_is_charged_on_the_item_and_removes_its_index_entries() -> None:
    assert list(write_charges(TABLE, code_item("ABC"), None, transactional=False)) == [
        Charge("t", None, "STORE#s#CODE#ABC", 1),
        Charge("t", "gsi1", "STORE#s#PROMOTION#1", 1),
    ]


def test_keys_only_projection_ignores_changes_to_other_attributes() -> None:
    table = TableSchema("t", "pk", "sk", (IndexSchema("by_owner", "owner", None, projection="KEYS_ONLY"),))
    before = {"pk": s("a"), "sk": s("b"), "owner": s("o"), "note": s("x")}
    after = {**before, "note": s("y" * 2000)}
    assert [(c.index, c.units) for c in write_charges(table, before, after, transactional=False)] == [(None, 2)]


def test_local_index_entries_are_charged_on_the_tables_partition() -> None:
    table = TableSchema("t", "pk", "sk", (IndexSchema("by_date", "pk", "date", local=True),))
    charges = write_charges(table, None, {"pk": s("a"), "sk": s("b"), "date": n(5)}, transactional=False)
    assert [(c.index, c.key) for c in charges] == [(None, "a"), (None, "a")]


def test_schema_from_describe_table() -> None:
    described = {
        "TableName": "t",
        "TableArn": "arn:aws:dynamodb:ddblocal:000000000000:table/t",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["code"]},
            }
        ],
    }
    schema = TableSchema.from_description(described)
    assert (schema.hash_key, schema.range_key) == ("pk", "sk")
    (index,) = schema.indexes
    assert (index.name, index.hash_key, index.range_key, index.projection) == ("gsi1", "gsi1pk", None, "INCLUDE")
    entry = schema.index_entry(index, {**code_item("ABC"), "other": s("x")})
    assert entry is not None and set(entry) == {"pk", "sk", "gsi1pk", "code"}


# ------------------------------------------------------------------ UpdateItem's after image
KEY = {"pk": s("k"), "sk": s("s")}


def test_update_set_arithmetic_if_not_exists_and_list_append() -> None:
    before = {**KEY, "count": n(5), "log": {"L": [s("a")]}}
    after = apply_update(
        before,
        KEY,
        "SET #c = #c + :one, started = if_not_exists(started, :now), log = list_append(log, :more), left = :ten - :one",
        {"#c": "count"},
        {":one": n(1), ":now": s("t0"), ":more": {"L": [s("b")]}, ":ten": n(10)},
    )
    assert after == {**KEY, "count": n(6), "started": s("t0"), "log": {"L": [s("a"), s("b")]}, "left": n(9)}
    assert before["count"] == n(5)  # the item before is left alone


def test_update_remove_add_and_delete() -> None:
    before = {**KEY, "gsi2pk": s("OPEN"), "gsi2sk": n(1), "tags": {"SS": ["a", "b"]}}
    after = apply_update(
        before,
        KEY,
        "REMOVE gsi2pk, gsi2sk ADD total :n, tags :c DELETE tags :a",
        None,
        {":n": n(3), ":c": {"SS": ["c"]}, ":a": {"SS": ["a"]}},
    )
    assert after == {**KEY, "total": n(3), "tags": {"SS": ["b", "c"]}}


def test_update_nested_map_members_and_list_elements() -> None:
    before = {**KEY, "leases": {"M": {"h1": n(10)}}, "l": {"L": [n(1), n(2)]}}
    after = apply_update(
        before,
        KEY,
        "SET leases.#h = :e, l[1] = :x REMOVE leases.h1",
        {"#h": "h2"},
        {":e": n(20), ":x": n(9)},
    )
    assert after == {**KEY, "leases": {"M": {"h2": n(20)}}, "l": {"L": [n(1), n(9)]}}


def test_update_of_a_missing_item_creates_it_from_its_key() -> None:
    assert apply_update(None, KEY, "ADD code_count :n", None, {":n": n(250)}) == {**KEY, "code_count": n(250)}


@pytest.mark.parametrize("expression", ["SET a = size(b)", "SET a = b + :one", "FROB a"])
def test_update_it_cannot_evaluate_is_refused(expression: str) -> None:
    with pytest.raises(UpdateNotEvaluated):
        apply_update({**KEY}, KEY, expression, None, {":one": n(1)})

"""The codegen request model at every bound of the contract, and the error shapes it produces."""

from typing import Any

import pytest
from pydantic import ValidationError

from couponmint.api.errors import validation_problem
from couponmint.models.codegen import CodegenRequest, iso_timestamp


def problems(body: Any) -> list[str]:
    """The 422 titles the API would answer for `body` (empty when it is valid)."""
    try:
        CodegenRequest.model_validate(body)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        return [entry["title"] for entry in validation_problem(errors).body["errors"]]
    return []


def test_codegen_request_defaults_follow_the_contract() -> None:
    # When only batch_size is given
    request = CodegenRequest.model_validate({"batch_size": 5})
    # Then the contract's defaults apply
    assert (request.max_uses, request.max_uses_per_customer) == (1, 1)
    assert request.code_length is None and request.code_format.layout.runs == (16,)
    assert request.code_format.layout.alphabet == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    assert not request.check_character and request.charset is None and request.pattern is None
    assert request.prefix is None and request.suffix is None and request.delimiter is None
    assert request.exclude_characters == []
    assert request.code_format.total_length == 16


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("batch_size", 0, False),
        ("batch_size", 1, True),
        ("batch_size", 250, True),
        ("batch_size", 251, False),
        ("batch_size", -1, False),
        ("batch_size", 5.0, False),
        ("batch_size", "5", False),
        ("batch_size", True, False),
        ("batch_size", None, False),
        ("max_uses", -1, False),
        ("max_uses", 0, True),
        ("max_uses", 100_000, True),
        ("max_uses", 100_001, False),
        ("max_uses", 1.5, False),
        ("max_uses", None, False),
        ("max_uses_per_customer", -1, False),
        ("max_uses_per_customer", 0, True),
        ("max_uses_per_customer", 100_000, True),
        ("max_uses_per_customer", 100_001, False),
        ("max_uses_per_customer", "1", False),
        ("code_length", 5, False),
        ("code_length", 6, True),
        ("code_length", 16, True),
        ("code_length", 17, False),
        ("code_length", 6.0, False),
        ("prefix", "A" * 20, True),
        ("prefix", "A" * 21, False),
        ("prefix", "", False),
        ("prefix", "PRE_-09", True),
        ("prefix", "pre", False),
        ("prefix", "PR E", False),
        ("prefix", 12, False),
        ("suffix", "Z" * 20, True),
        ("suffix", "Z" * 21, False),
        ("suffix", "end", False),
        ("delimiter", "_", True),
        ("delimiter", "-", True),
        ("delimiter", "", False),
        ("delimiter", "__", False),
        ("delimiter", ".", False),
        ("exclude_characters", [], True),
        ("exclude_characters", ["A", "0"], True),
        ("exclude_characters", ["a"], False),
        ("exclude_characters", ["AB"], False),
        ("exclude_characters", [""], False),
        ("exclude_characters", "A", False),
        ("exclude_characters", [1], False),
    ],
)
def test_codegen_request_enforces_each_field_at_its_edges(field: str, value: Any, valid: bool) -> None:
    # When the body holds the value
    found = problems({"batch_size": 5, field: value} if field != "batch_size" else {field: value})
    # Then it is accepted or refused with a title naming the field
    if valid:
        assert found == []
    else:
        assert len(found) == 1
        assert found[0].startswith(field)


def test_codegen_request_requires_batch_size() -> None:
    assert problems({"max_uses": 3}) == ["batch_size: Field required"]


def test_codegen_request_ignores_unknown_fields() -> None:
    assert problems({"batch_size": 1, "colour": "red"}) == []


def test_codegen_request_reports_every_problem() -> None:
    # Given three bad fields
    found = problems({"batch_size": 0, "max_uses": -1, "code_length": 99})
    # Then each has its own entry
    assert sorted(title.split(":")[0] for title in found) == ["batch_size", "code_length", "max_uses"]


@pytest.mark.parametrize(
    ("prefix", "suffix", "delimiter", "length", "total"),
    [
        ("A" * 16, "B" * 16, "_", 16, 50),  # 16+1+16+1+16: exactly 50
        ("A" * 17, "B" * 16, "_", 16, 51),
        ("A" * 20, "B" * 20, "-", 6, 48),
        ("A" * 20, "B" * 20, "-", 9, 51),
        ("A" * 20, "B" * 20, None, 10, 50),
    ],
)
def test_codegen_request_limits_the_total_code_length_to_50(
    prefix: str, suffix: str, delimiter: str | None, length: int, total: int
) -> None:
    body = {
        "batch_size": 1,
        "prefix": prefix,
        "suffix": suffix,
        "delimiter": delimiter,
        "code_length": length,
    }
    if delimiter is None:
        del body["delimiter"]
    found = problems(body)
    if total <= 50:
        assert found == []
        assert CodegenRequest.model_validate(body).code_format.total_length == total
    else:
        assert len(found) == 1
        assert f"code is {total} characters long" in found[0]


def test_code_format_places_the_delimiter_only_beside_a_prefix_or_suffix() -> None:
    only_delimiter = CodegenRequest.model_validate({"batch_size": 1, "delimiter": "-"}).code_format
    assert only_delimiter.layout.pieces == ("", "")
    both = CodegenRequest.model_validate(
        {"batch_size": 1, "delimiter": "-", "prefix": "PRE", "suffix": "SUF"}
    ).code_format
    assert both.layout.pieces == ("PRE-", "-SUF")
    no_delimiter = CodegenRequest.model_validate({"batch_size": 1, "prefix": "PRE"}).code_format
    assert no_delimiter.layout.pieces == ("PRE", "")


@pytest.mark.parametrize(
    "errors",
    [
        [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error"}],
        [{"type": "model_attributes_type", "loc": ("body",), "msg": "Input should be a valid dictionary"}],
        [{"type": "missing", "loc": ("body",), "msg": "Field required"}],
    ],
)
def test_validation_problem_answers_400_when_the_body_is_not_a_json_object(
    errors: list[dict[str, Any]],
) -> None:
    problem = validation_problem(errors)
    assert problem.status == 400
    assert set(problem.body) == {"status", "title", "type", "detail"}
    assert problem.body["status"] == 400


def test_iso_timestamp_has_a_utc_offset_and_whole_seconds() -> None:
    from datetime import UTC, datetime

    assert iso_timestamp(datetime(2019, 1, 20, 22, 0, 0, 123456, tzinfo=UTC)) == "2019-01-20T22:00:00+00:00"

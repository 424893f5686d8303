"""Helpers shared by the table adapters: Python values to DynamoDB attribute values and back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# DynamoDB numbers go down to 1E-130 (boto3 refuses smaller ones with decimal.Underflow): a float
# closer to zero than this (3.98e-186 as a temperature, sent by the schema fuzzer) is stored as 0.
_SMALLEST = 1e-120


def _to_dynamo(value: Any) -> Any:
    # DynamoDB numbers must be Decimal; going through str keeps 0.1 as 0.1.
    if isinstance(value, float):
        return Decimal(0) if abs(value) < _SMALLEST else Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as a DynamoDB item (None values dropped)."""
    return {k: _serializer.serialize(v) for k, v in _to_dynamo(item).items()}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a plain dict with ints and floats."""
    return _from_dynamo({k: _deserializer.deserialize(v) for k, v in item.items()})


def value(v: Any) -> Any:
    """One Python value as a DynamoDB attribute value."""
    return _serializer.serialize(_to_dynamo(v))

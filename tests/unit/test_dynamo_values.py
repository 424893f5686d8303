"""Python values as DynamoDB stores them: numbers it cannot hold are not a 500."""

from __future__ import annotations

from grabadora.adapters.dynamo import deserialize, serialize


def test_floats_round_trip_and_ones_too_small_for_dynamodb_are_stored_as_zero() -> None:
    item = {"temperature": 3.984520636169922e-186, "progress": 0.1, "nested": {"p": [1e-200, 0.25]}}
    stored = serialize(item)  # boto3 raised decimal.Underflow here for 3.98e-186
    assert stored["temperature"] == {"N": "0"}
    assert deserialize(stored) == {"temperature": 0, "progress": 0.1, "nested": {"p": [0, 0.25]}}

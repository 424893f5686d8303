"""The `users` table: one item per account, keyed by e-mail."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from grabadora import aws
from grabadora.adapters._errors import translate, translating
from grabadora.adapters.dynamo import deserialize, serialize
from grabadora.errors import Conflict, NotFound
from grabadora.settings import get_settings


class UsersTable:
    def __init__(self, table_name: str | None = None) -> None:
        self._table = table_name or get_settings().users_table

    def create(self, user: dict[str, Any]) -> None:
        """Store a new user; `Conflict` if the e-mail is taken."""
        try:
            aws.client("dynamodb").put_item(
                TableName=self._table,
                Item=serialize(user),
                ConditionExpression="attribute_not_exists(email)",
            )
        except (ClientError, BotoCoreError) as e:
            error = translate(e, "create user")
            if isinstance(error, Conflict):
                raise Conflict("an account with this e-mail already exists") from e
            raise error from e

    def get(self, email: str) -> dict[str, Any]:
        """The user with this e-mail, or `NotFound`."""
        with translating("read user"):
            response = aws.client("dynamodb").get_item(TableName=self._table, Key={"email": {"S": email}})
        if "Item" not in response:
            raise NotFound("no such user")
        return deserialize(response["Item"])

    def delete(self, email: str) -> None:
        """Remove the account's sign-in record (account deletion)."""
        with translating("delete user"):
            aws.client("dynamodb").delete_item(TableName=self._table, Key={"email": {"S": email}})

"""Create the table or bring its GSIs in line with the models.

`plan()` compares the live table with `table_definition()`; `apply()` carries the
plan out. DynamoDB allows one GSI creation or deletion per UpdateTable call, so
each change is its own call, and the next waits until the table and the index
are ACTIVE (or gone). Nothing is dropped unless the caller allows it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Change:
    action: str  # create_table | add_index | drop_index
    index_name: str | None
    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass
class Plan:
    table_name: str
    changes: list[Change] = field(default_factory=list)  # what apply() will do, in order
    kept: list[str] = field(default_factory=list)  # drift left alone: drops not allowed
    errors: list[str] = field(default_factory=list)  # drift no migration can fix

    @property
    def in_sync(self) -> bool:
        return not (self.changes or self.kept or self.errors)


def describe_table(client, table_name: str) -> dict | None:
    try:
        return client.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def _normalized_index(index: dict) -> dict:
    projection = {"ProjectionType": index["Projection"]["ProjectionType"]}
    if index["Projection"].get("NonKeyAttributes"):
        projection["NonKeyAttributes"] = sorted(index["Projection"]["NonKeyAttributes"])
    return {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": projection}


def plan(client, definition: dict, *, allow_drop: bool = False) -> Plan:
    table_name = definition["TableName"]
    result = Plan(table_name=table_name)
    live = describe_table(client, table_name)
    if live is None:
        names = ", ".join(index["IndexName"] for index in definition["GlobalSecondaryIndexes"])
        result.changes.append(Change("create_table", None, f"create table {table_name} with indexes: {names}"))
        return result

    if live["KeySchema"] != definition["KeySchema"]:
        result.errors.append(
            f"table {table_name} has key schema {live['KeySchema']}, models declare {definition['KeySchema']}: "
            "a key schema cannot change; create a new table and copy the items"
        )
        return result

    wanted = {index["IndexName"]: _normalized_index(index) for index in definition["GlobalSecondaryIndexes"]}
    existing = {index["IndexName"]: _normalized_index(index) for index in live.get("GlobalSecondaryIndexes", [])}
    drops, adds = [], []
    for name in sorted(existing.keys() - wanted.keys()):
        if allow_drop:
            drops.append(Change("drop_index", name, f"drop index {name} (no model declares it)"))
        else:
            result.kept.append(f"index {name} is not declared by any model; kept (--allow-drop removes it)")
    for name in sorted(wanted.keys() & existing.keys()):
        if wanted[name] != existing[name]:
            if allow_drop:
                drops.append(Change("drop_index", name, f"drop index {name} to re-create it as the models declare"))
                adds.append(Change("add_index", name, f"add index {name} {_describe(wanted[name])}"))
            else:
                result.kept.append(
                    f"index {name} differs from the models (live {_describe(existing[name])}, "
                    f"models {_describe(wanted[name])}); kept (--allow-drop re-creates it)"
                )
    for name in sorted(wanted.keys() - existing.keys()):
        adds.append(Change("add_index", name, f"add index {name} {_describe(wanted[name])}"))
    result.changes = drops + adds
    return result


def _describe(index: dict) -> str:
    keys = ", ".join(f"{key['AttributeName']} {key['KeyType']}" for key in index["KeySchema"])
    projection = index["Projection"]["ProjectionType"]
    return f"({keys}; projection {projection})"


def apply(
    client,
    migration: Plan,
    definition: dict,
    *,
    timeout_seconds: float = 600.0,
    report: Callable[[str], None] = lambda message: None,
) -> None:
    if migration.errors:
        raise MigrationError("; ".join(migration.errors))
    indexes = {index["IndexName"]: index for index in definition["GlobalSecondaryIndexes"]}
    for change in migration.changes:
        report(f"{change} ...")
        if change.action == "create_table":
            client.create_table(**definition)
            _wait(client, definition["TableName"], None, present=True, timeout_seconds=timeout_seconds)
        elif change.action == "add_index":
            index = indexes[change.index_name]
            used = {key["AttributeName"] for key in definition["KeySchema"] + index["KeySchema"]}
            client.update_table(
                TableName=definition["TableName"],
                AttributeDefinitions=[a for a in definition["AttributeDefinitions"] if a["AttributeName"] in used],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )
            _wait(client, definition["TableName"], change.index_name, present=True, timeout_seconds=timeout_seconds)
        elif change.action == "drop_index":
            client.update_table(
                TableName=definition["TableName"],
                GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": change.index_name}}],
            )
            _wait(client, definition["TableName"], change.index_name, present=False, timeout_seconds=timeout_seconds)
        report(f"{change}: done")


def _wait(client, table_name: str, index_name: str | None, *, present: bool, timeout_seconds: float) -> None:
    """Poll until the table is ACTIVE and the index ACTIVE (present) or gone (not present)."""
    deadline = time.monotonic() + timeout_seconds
    delay = 0.05
    while True:
        table = describe_table(client, table_name)
        if table is not None and table["TableStatus"] == "ACTIVE":
            if index_name is None:
                return
            status = {i["IndexName"]: i.get("IndexStatus", "ACTIVE") for i in table.get("GlobalSecondaryIndexes", [])}
            if present and status.get(index_name) == "ACTIVE":
                return
            if not present and index_name not in status:
                return
        if time.monotonic() >= deadline:
            what = f"index {index_name}" if index_name else f"table {table_name}"
            raise MigrationError(
                f"{what} did not become {'ACTIVE' if present else 'deleted'} within {timeout_seconds:.0f}s "
                "(note: dynalite accepts but ignores an UpdateTable that adds a GSI)"
            )
        time.sleep(delay)
        delay = min(delay * 2, 2.0)

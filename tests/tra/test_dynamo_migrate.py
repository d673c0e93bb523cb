"""`manage.py dynamo_migrate` and `dynamo_schema` against the real local server."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tra.dynamo import migrate
from tra.dynamo.connection import botocore_client
from tra.dynamo.schema import cloudformation_template, table_definition

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_table(dynamodb_server):
    client = botocore_client()
    if migrate.describe_table(client, settings.TRA_TABLE_NAME):
        client.delete_table(TableName=settings.TRA_TABLE_NAME)
    return client


def live_indexes(client) -> set[str]:
    table = migrate.describe_table(client, settings.TRA_TABLE_NAME)
    return {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}


def declared_indexes() -> set[str]:
    return {index["IndexName"] for index in table_definition()["GlobalSecondaryIndexes"]}


def drop_index_by_hand(client, name: str) -> None:
    client.update_table(
        TableName=settings.TRA_TABLE_NAME, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": name}}]
    )


def test_migrate_creates_the_table_with_every_declared_index(no_table, capsys):
    call_command("dynamo_migrate")
    assert live_indexes(no_table) == declared_indexes()
    table = migrate.describe_table(no_table, settings.TRA_TABLE_NAME)
    assert table["TableStatus"] == "ACTIVE"
    assert "1 change(s) applied" in capsys.readouterr().out


def test_migrate_twice_changes_nothing_the_second_time(no_table, capsys):
    call_command("dynamo_migrate")
    capsys.readouterr()
    call_command("dynamo_migrate")
    assert "is up to date" in capsys.readouterr().out
    assert migrate.plan(no_table, table_definition()).in_sync


def test_check_fails_on_a_missing_index_and_migrate_restores_it(no_table):
    call_command("dynamo_migrate")
    drop_index_by_hand(no_table, "by_status")

    with pytest.raises(CommandError) as raised:
        call_command("dynamo_migrate", "--check")
    assert raised.value.returncode == 1

    call_command("dynamo_migrate")
    assert live_indexes(no_table) == declared_indexes()
    call_command("dynamo_migrate", "--check")  # exits 0: in sync


def test_plan_prints_the_changes_and_makes_none(no_table, capsys):
    call_command("dynamo_migrate")
    drop_index_by_hand(no_table, "title_search")
    capsys.readouterr()
    call_command("dynamo_migrate", "--plan")
    out = capsys.readouterr().out
    assert "would add index title_search" in out
    assert "title_search" not in live_indexes(no_table)


def test_adding_several_indexes_issues_one_update_table_each(no_table):
    call_command("dynamo_migrate")
    drop_index_by_hand(no_table, "by_type")
    drop_index_by_hand(no_table, "by_owner")
    calls = []

    def record(params, **kwargs):
        calls.append(dict(params))

    no_table.meta.events.register("provide-client-params.dynamodb.UpdateTable", record)
    try:
        call_command("dynamo_migrate")
    finally:
        no_table.meta.events.unregister("provide-client-params.dynamodb.UpdateTable", record)
    assert len(calls) == 2
    assert all(len(params["GlobalSecondaryIndexUpdates"]) == 1 for params in calls)
    assert live_indexes(no_table) == declared_indexes()


def test_an_index_no_model_declares_is_kept_unless_drop_is_allowed(no_table):
    call_command("dynamo_migrate")
    no_table.update_table(
        TableName=settings.TRA_TABLE_NAME,
        AttributeDefinitions=[{"AttributeName": "legacy_key", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "legacy",
                    "KeySchema": [{"AttributeName": "legacy_key", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    call_command("dynamo_migrate")
    assert "legacy" in live_indexes(no_table)
    with pytest.raises(CommandError):
        call_command("dynamo_migrate", "--check")

    call_command("dynamo_migrate", "--allow-drop")
    assert live_indexes(no_table) == declared_indexes()


def test_an_index_whose_projection_changed_is_recreated_only_with_allow_drop(no_table):
    call_command("dynamo_migrate")
    definition = table_definition()
    drop_index_by_hand(no_table, "links_by_document")
    changed = next(index for index in definition["GlobalSecondaryIndexes"] if index["IndexName"] == "links_by_document")
    no_table.update_table(
        TableName=settings.TRA_TABLE_NAME,
        AttributeDefinitions=[a for a in definition["AttributeDefinitions"] if a["AttributeName"].startswith("linked")],
        GlobalSecondaryIndexUpdates=[{"Create": {**changed, "Projection": {"ProjectionType": "ALL"}}}],
    )
    plan = migrate.plan(no_table, definition)
    assert plan.kept and not plan.changes

    plan = migrate.plan(no_table, definition, allow_drop=True)
    assert [change.action for change in plan.changes] == ["drop_index", "add_index"]
    migrate.apply(no_table, plan, definition, timeout_seconds=30)
    assert migrate.plan(no_table, definition).in_sync


def test_check_exits_1_from_the_command_line(no_table, dynamodb_server):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tra.settings.test",
        "DYNAMODB_ENDPOINT_URL": dynamodb_server.endpoint_url,
    }
    command = [sys.executable, "manage.py", "dynamo_migrate", "--check"]
    missing = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert "create table" in missing.stdout

    subprocess.run(
        [sys.executable, "manage.py", "dynamo_migrate"],
        cwd=PROJECT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    in_sync = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert in_sync.returncode == 0, in_sync.stderr


def test_schema_command_prints_a_cloudformation_template_that_cfn_lint_accepts(capsys):
    from cfnlint.api import lint_all

    call_command("dynamo_schema")
    template = json.loads(capsys.readouterr().out)
    table = template["Resources"]["TraTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert {index["IndexName"] for index in table["Properties"]["GlobalSecondaryIndexes"]} == declared_indexes()
    errors = [match for match in lint_all(json.dumps(template)) if match.rule.id.startswith("E")]
    assert errors == []


def test_cloudformation_and_create_table_come_from_the_same_definition():
    definition = table_definition()
    properties = cloudformation_template()["Resources"]["TraTable"]["Properties"]
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode"):
        assert properties[key] == definition[key]


def test_every_key_schema_lists_its_hash_key_first():
    definition = table_definition()
    for key_schema in [
        definition["KeySchema"],
        *(index["KeySchema"] for index in definition["GlobalSecondaryIndexes"]),
    ]:
        assert [key["KeyType"] for key in key_schema][0] == "HASH"

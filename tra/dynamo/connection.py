"""The one PynamoDB TableConnection (one botocore client, one HTTP pool) every model shares.

PynamoDB would open one connection per model class; `TableModel._get_connection`
returns this one instead (PynamoDB 6.1, pinned). It is built lazily from settings
and the table definition, and rebuilt when a DynamoDB/AWS setting changes.
"""

import threading

from django.conf import settings
from django.core.signals import setting_changed
from pynamodb.connection import TableConnection
from pynamodb.connection.base import MetaTable
from pynamodb.constants import GLOBAL_SECONDARY_INDEXES, INDEX_NAME, KEY_SCHEMA

from . import config, metering
from .registry import all_models
from .schema import table_definition

_connection: TableConnection | None = None
_connection_lock = threading.Lock()


def table_connection() -> TableConnection:
    if _connection is None:
        with _connection_lock:
            if _connection is None:
                _connect()
    return _connection


def _connect() -> None:
    global _connection
    definition = table_definition()
    meta_table = MetaTable(
        {
            "TableName": definition["TableName"],
            "KeySchema": definition["KeySchema"],
            "AttributeDefinitions": definition["AttributeDefinitions"],
            GLOBAL_SECONDARY_INDEXES: [
                {INDEX_NAME: index["IndexName"], KEY_SCHEMA: index["KeySchema"]}
                for index in definition.get("GlobalSecondaryIndexes", [])
            ],
        }
    )
    endpoint = settings.DYNAMODB_ENDPOINT_URL
    credentials = config.credentials_for(endpoint)
    connection = TableConnection(
        settings.TRA_TABLE_NAME,
        region=settings.AWS_REGION,
        host=endpoint,
        connect_timeout_seconds=settings.AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds=settings.AWS_READ_TIMEOUT_SECONDS,
        max_pool_connections=settings.AWS_MAX_POOL_CONNECTIONS,
        aws_access_key_id=credentials.get("aws_access_key_id"),
        aws_secret_access_key=credentials.get("aws_secret_access_key"),
        meta_table=meta_table,
    )
    # TableConnection does not take a retry configuration; Connection reads it
    # when it creates the client (first use), so set it before that.
    connection.connection._retry_configuration = config.retry_config()
    metering.instrument(connection.connection.client.meta.events)
    _connection = connection


def reset_connection() -> None:
    """Drop the shared connection; the next call builds one from current settings."""
    global _connection
    _connection = None
    for model in all_models():
        model.Meta.table_name = settings.TRA_TABLE_NAME
        model.Meta.host = settings.DYNAMODB_ENDPOINT_URL
        model.Meta.region = settings.AWS_REGION


def botocore_client():
    """The shared, instrumented botocore DynamoDB client (sync code: admin, commands)."""
    return table_connection().connection.client


_CONNECTION_SETTINGS = {
    "DYNAMODB_ENDPOINT_URL",
    "TRA_TABLE_NAME",
    "AWS_REGION",
    "AWS_MAX_POOL_CONNECTIONS",
    "AWS_CONNECT_TIMEOUT_SECONDS",
    "AWS_READ_TIMEOUT_SECONDS",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_ACCESS_KEY_ID",
}


def _on_setting_changed(setting, **kwargs):
    if setting in _CONNECTION_SETTINGS:
        reset_connection()


setting_changed.connect(_on_setting_changed)

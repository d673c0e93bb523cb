"""The one-table base model, the registry of models on it, and their shared connection.

Every entity subclasses `TableModel` with a discriminator value, so all of them
live in one table keyed by `pk`/`sk` with `entity_type` naming the model. The
table's name, endpoint, region, pool, timeouts and retries come from settings.

All models share one PynamoDB TableConnection (one botocore client, one HTTP
pool) instead of one per model class: `_get_connection` is overridden for that
(PynamoDB 6.1, pinned). It is rebuilt when a DynamoDB/AWS setting changes.
"""

import threading
from datetime import UTC, datetime

from django.conf import settings
from django.core.signals import setting_changed
from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import TableConnection
from pynamodb.connection.base import MetaTable
from pynamodb.constants import GLOBAL_SECONDARY_INDEXES, INDEX_NAME, KEY_SCHEMA
from pynamodb.models import Model

from . import config, metering

_registry: list[type["TableModel"]] = []
_connection: TableConnection | None = None
_connection_lock = threading.Lock()

_TIMESTAMP = UTCDateTimeAttribute()


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp_key(moment: datetime) -> str:
    """A datetime as the fixed-width string DynamoDB stores, so keys sort by time."""
    return _TIMESTAMP.serialize(moment)


class TableModel(Model):
    """Base of every entity stored in the TRA table."""

    class Meta:
        table_name = settings.TRA_TABLE_NAME
        region = settings.AWS_REGION
        host = settings.DYNAMODB_ENDPOINT_URL

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity_type = DiscriminatorAttribute()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _registry.append(cls)

    def derive_attributes(self) -> None:
        """Set attributes computed from others (index keys); runs before every write."""

    def serialize(self, null_check: bool = True):
        # save(), TransactWrite.save() and batch writes all serialize through here,
        # so derived index keys can never be stale on a put.
        self.derive_attributes()
        return super().serialize(null_check=null_check)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        return table_connection()


def registered_models() -> list[type[TableModel]]:
    """Every concrete model on the table (those with a discriminator value)."""
    return [model for model in _registry if model._get_discriminator_attribute() and _has_value(model)]


def _has_value(model: type[TableModel]) -> bool:
    return model._get_discriminator_attribute().get_discriminator(model) is not None


def table_connection() -> TableConnection:
    if _connection is None:
        with _connection_lock:
            if _connection is None:
                _connect()
    return _connection


def _connect() -> None:
    global _connection
    from .schema import table_definition  # schema imports this module

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
    for model in _registry:
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

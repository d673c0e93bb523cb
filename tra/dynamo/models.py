"""The one-table base model every entity subclasses.

Every entity subclasses `TableModel` with a discriminator value, so all of them
live in one table keyed by `pk`/`sk` with `entity_type` naming the model. The
table's name, endpoint, region, pool, timeouts and retries come from settings;
subclasses are recorded in `tra.dynamo.registry` as they are defined, and all
of them share the connection of `tra.dynamo.connection`.
"""

from django.conf import settings
from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute
from pynamodb.connection import TableConnection
from pynamodb.models import Model

from . import registry
from .connection import table_connection


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
        registry.register(cls)

    def derive_attributes(self) -> None:
        """Set attributes computed from others (index keys); runs before every write."""

    def companion_items(self) -> list["TableModel"]:
        """Items derived from this one that must exist beside it (e.g. search tokens).

        Services write them with the item; `dynamo_backfill` writes those missing.
        """
        return []

    def serialize(self, null_check: bool = True):
        # save(), TransactWrite.save() and batch writes all serialize through here,
        # so derived index keys can never be stale on a put.
        self.derive_attributes()
        return super().serialize(null_check=null_check)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        return table_connection()

"""Daily usage counters: DynamoDB capacity, and whatever the apps register (LLM calls,
tokens, cost, cache hits, routing tiers).

`USAGE#<yyyy-mm>` / `<yyyy-mm-dd>#<metric>` with an atomic ADD per update, so
the dashboard reads a month of every metric with one Query, and concurrent
workers never lose an increment (no read-modify-write, so no version needed).
The tra app's models module imports this one, so the table registry sees it.
"""

from datetime import date

from pynamodb.attributes import NumberAttribute

from tra.dynamo import keys
from tra.dynamo.models import TableModel

USAGE = "USAGE"


class UsageCounter(TableModel, discriminator="usage_counter"):
    value = NumberAttribute(default=0)

    @staticmethod
    def key(day: date, metric: str) -> tuple[str, str]:
        return keys.join(USAGE, day.strftime("%Y-%m")), keys.join(day.isoformat(), metric)

    @classmethod
    def add(cls, day: date, metric: str, amount: float) -> None:
        """Atomic ADD; also sets entity_type, which an UpdateItem would otherwise leave
        unset, and without which queries (filtered on it) would not see the item."""
        counter = cls(*cls.key(day, metric))
        counter.update(actions=[cls.value.add(amount), cls.entity_type.set(cls)])

    @classmethod
    def set_total(cls, day: date, metric: str, total: float) -> None:
        counter = cls(*cls.key(day, metric))
        counter.update(actions=[cls.value.set(total), cls.entity_type.set(cls)])

    @staticmethod
    def month_pk(day: date) -> str:
        return keys.join(USAGE, day.strftime("%Y-%m"))

    @property
    def day(self) -> date:
        return date.fromisoformat(self.sk.split(keys.SEPARATOR, 1)[0])

    @property
    def metric(self) -> str:
        return self.sk.split(keys.SEPARATOR, 1)[1]

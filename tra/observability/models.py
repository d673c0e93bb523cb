"""Daily usage counters: DynamoDB capacity, and whatever the apps register (LLM calls,
tokens, cost, cache hits, routing tiers).

`USAGE#<yyyy-mm>` / `<yyyy-mm-dd>#<metric>` with an atomic ADD per update, so
the dashboard reads a month of every metric with one Query, and concurrent
workers never lose an increment (no read-modify-write, so no version needed).
The tra app's models module imports this one, so the table registry sees it.

An ADD is exact under retries: it also sets this process's token attribute
(`w_<writer id>`) to a sequence number, conditioned on the stored one being lower.
A replay of an ADD that had been applied (botocore retrying after a lost answer)
fails that condition instead of adding twice, and is then known to be applied.
"""

import itertools
import os
import threading
import uuid
from datetime import date

from pynamodb.attributes import NumberAttribute
from pynamodb.constants import ITEM
from pynamodb.exceptions import UpdateError

from tra.dynamo import keys
from tra.dynamo.idempotency import CONDITION_FAILED, response_code
from tra.dynamo.models import TableModel

USAGE = "USAGE"

# This process's token attribute on the counter items it adds to (made after a fork: gunicorn's
# preloaded workers must not share one), and its ADDs' sequence numbers.
_tokens: dict[int, NumberAttribute] = {}
_sequence = itertools.count(1)
_token_lock = threading.Lock()
_unconfirmed: dict[str, tuple[date, int, float]] = {}  # metric -> an ADD whose outcome is unknown


class UsageCounter(TableModel, discriminator="usage_counter"):
    value = NumberAttribute(default=0)

    @staticmethod
    def key(day: date, metric: str) -> tuple[str, str]:
        return keys.join(USAGE, day.strftime("%Y-%m")), keys.join(day.isoformat(), metric)

    @classmethod
    def add(cls, day: date, metric: str, amount: float) -> None:
        """Atomic ADD, applied once however often it is sent; also sets entity_type, which an
        UpdateItem would otherwise leave unset, and without which queries (filtered on it)
        would not see the item.

        A failed ADD may still have been applied; the caller sends its amount again within
        the next ADD of the metric (usage.flush does: what it could not confirm stays in its
        next delta), and that ADD first asks whether the failed one was applied, and if so
        takes its amount off."""
        with _token_lock:
            token = _token()
            pending = _unconfirmed.get(metric)
            if pending is not None:
                old_day, old_sequence, old_amount = pending
                if cls._token_of(token, old_day, metric) >= old_sequence:
                    amount = round(amount - old_amount, 6)
                del _unconfirmed[metric]
            if amount <= 0:
                return
            sequence = next(_sequence)
            counter = cls(*cls.key(day, metric))
            try:
                counter.update(
                    actions=[cls.value.add(amount), cls.entity_type.set(cls), token.set(sequence)],
                    condition=token.does_not_exist() | (token < sequence),  # noqa: SIM300 - an expression
                )
            except UpdateError as error:
                if response_code(error) == CONDITION_FAILED:
                    return  # only this process writes its token: an earlier attempt of this ADD applied
                _unconfirmed[metric] = (day, sequence, amount)
                raise

    @classmethod
    def _token_of(cls, token: NumberAttribute, day: date, metric: str) -> int:
        """The sequence number of this process's last ADD applied to the counter (0: none)."""
        data = cls._get_connection().get_item(*cls.key(day, metric), consistent_read=True)
        stored = (data or {}).get(ITEM, {}).get(token.attr_name)
        return int(stored["N"]) if stored else 0

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


def _token() -> NumberAttribute:
    """This process's token attribute, `w_<random id>` (called under _token_lock)."""
    pid = os.getpid()
    if pid not in _tokens:
        _tokens.clear()  # a forked child drops its parent's token and what its parent left unconfirmed
        _unconfirmed.clear()
        _tokens[pid] = NumberAttribute(attr_name=f"w_{uuid.uuid4().hex[:16]}")
    return _tokens[pid]

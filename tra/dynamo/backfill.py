"""Recompute derived attributes (index keys) and companion items on existing items.

After a model gains an index key (a new GSI), items written before it lack the
key and are invisible to the index. The backfill reads the table with a parallel
Scan (the one place a Scan belongs: a batch job), recomputes each item's derived
attributes through the model's own `derive_attributes`, and writes back only
those attributes, and only if the item has not changed since it was read:

- each update is `SET <derived attributes>` with the condition "version is still
  the one read" (or "item still exists" for unversioned items), so a concurrent
  user edit is never overwritten; that edit derived its own keys anyway;
- updates go 25 to a TransactWriteItems call; if a condition fails the batch is
  retried item by item and the changed item is skipped;
- items whose derived attributes are already right are not written at all;
- companion items a model declares (`TableModel.companion_items`, e.g. an
  assessment's title words with its list columns) that are missing or stored
  differently are looked up by key (BatchGetItem) and put, each on condition
  that the stored one is not newer (its `version`), so a put cannot overwrite
  an edit;
- progress is checkpointed per segment (LastEvaluatedKey) in a JSON file, so an
  interrupted run resumes where it stopped;
- an optional read-capacity budget (RCU per second) paces the Scan.
"""

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from pathlib import Path

from pynamodb.attributes import NumberAttribute, VersionAttribute
from pynamodb.exceptions import PutError

from . import idempotency
from .connection import botocore_client, table_connection
from .metering import batch_job
from .models import TableModel
from .registry import registered_models

TRANSACTION_SIZE = 25


@dataclass
class BackfillStats:
    scanned: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_concurrent_edit: int = 0
    companions_added: int = 0
    pages: int = 0
    # The checkpoint recorded a finished run: this run started over (not a silent no-op).
    new_run_after_finished: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class Checkpoint:
    """LastEvaluatedKey per segment in a JSON file; `done` segments are skipped on resume,
    and once every segment of a run is done the next run starts over."""

    def __init__(self, path: Path | None, total_segments: int):
        self.path = path
        self.total_segments = total_segments
        self._lock = threading.Lock()
        self.state: dict = {"total_segments": total_segments, "segments": {}}
        if path and path.exists():
            loaded = json.loads(path.read_text())
            if loaded.get("total_segments") != total_segments:
                raise ValueError(
                    f"{path} was written for {loaded.get('total_segments')} segments, not {total_segments}"
                )
            self.state = loaded

    def position(self, segment: int) -> tuple[dict | None, bool]:
        entry = self.state["segments"].get(str(segment), {})
        return entry.get("last_key"), entry.get("done", False)

    def finished(self, segments: list[int]) -> bool:
        return all(self.position(segment)[1] for segment in segments)

    def forget(self, segments: list[int]) -> None:
        with self._lock:
            for segment in segments:
                self.state["segments"].pop(str(segment), None)
            self._store()

    def save(self, segment: int, last_key: dict | None) -> None:
        with self._lock:
            self.state["segments"][str(segment)] = {"last_key": last_key, "done": last_key is None}
            self._store()

    def _store(self) -> None:
        if self.path:
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.state))
            temporary.replace(self.path)


class CapacityBudget:
    """Paces reads so the consumed RCU per second stays under `per_second` (None: no limit)."""

    def __init__(self, per_second: float | None):
        self.per_second = per_second
        self._lock = threading.Lock()
        self._next_allowed = time.monotonic()

    def spend(self, units: float) -> None:
        if not self.per_second:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_allowed)
            self._next_allowed = start + units / self.per_second
            wait = start - now
        if wait > 0:
            time.sleep(wait)


def _model_for(item: dict) -> type[TableModel] | None:
    entity = item.get("entity_type", {}).get("S")
    for model in registered_models():
        if model._get_discriminator_attribute().get_discriminator(model) == entity:
            return model
    return None


def _derived_names(model: type[TableModel]) -> list[str]:
    keys = {"pk", "sk"}
    names = set()
    for index in model._indexes.values():
        names.update(attribute.attr_name for attribute in index.Meta.attributes.values())
    return sorted(names - keys)


def _plan(raw: dict) -> tuple[TableModel, dict] | None:
    """The item as a model and the derived attributes that differ from what is stored."""
    model = _model_for(raw)
    if model is None:
        return None
    instance = model.from_raw_data(raw)
    instance.derive_attributes()
    fresh = instance.serialize(null_check=False)
    changes = {name: fresh[name] for name in _derived_names(model) if name in fresh and raw.get(name) != fresh[name]}
    return (instance, changes) if changes else None


def _update_action(instance: TableModel, changes: dict) -> dict:
    names = {f"#a{n}": name for n, name in enumerate(changes)}
    values = {f":a{n}": value for n, value in enumerate(changes.values())}
    version_name = instance._version_attribute_name
    if version_name and getattr(instance, version_name) is not None:
        names["#version"] = version_name
        values[":version"] = {"N": str(getattr(instance, version_name))}
        condition = "#version = :version"
    else:
        names["#pk"] = "pk"
        condition = "attribute_exists(#pk)"
    return {
        "Update": {
            "TableName": table_connection().table_name,
            "Key": {"pk": {"S": instance.pk}, "sk": {"S": instance.sk}},
            "UpdateExpression": "SET " + ", ".join(f"#a{n} = :a{n}" for n in range(len(changes))),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _write(actions: list[dict], stats: BackfillStats, dry_run: bool) -> None:
    if not actions:
        return
    if dry_run:
        stats.add(updated=len(actions))
        return
    client = botocore_client()
    try:
        client.transact_write_items(TransactItems=actions)
        stats.add(updated=len(actions))
        return
    except client.exceptions.TransactionCanceledException:
        pass  # a condition failed (or a concurrent transaction): settle item by item
    for action in actions:
        update = action["Update"]
        try:
            client.update_item(**update)
            stats.add(updated=1)
        except client.exceptions.ConditionalCheckFailedException:
            stats.add(skipped_concurrent_edit=1)


def _companions_to_write(instances: list[TableModel]) -> list[TableModel]:
    """The companion items of `instances` that are missing from the table or stored differently
    (e.g. title words written before they carried their assessment's list columns), found by
    BatchGetItem of their keys."""
    wanted: dict[tuple[str, str], TableModel] = {}
    for instance in instances:
        for companion in instance.companion_items():
            wanted.setdefault((companion.pk, companion.sk), companion)
    keys_by_model: dict[type[TableModel], list[tuple[str, str]]] = defaultdict(list)
    for key, companion in wanted.items():
        keys_by_model[type(companion)].append(key)
    stored: dict[tuple[str, str], dict] = {}
    for model, model_keys in keys_by_model.items():
        # PynamoDB sends 100 keys a call (DynamoDB's limit) and retries unprocessed keys.
        stored.update(((item.pk, item.sk), item.serialize()) for item in model.batch_get(model_keys))
    return [companion for key, companion in wanted.items() if stored.get(key) != companion.serialize()]


def _put_companions(companions: list[TableModel], stats: "BackfillStats") -> None:
    """Conditional puts: a companion the services rewrote since the Scan read its owner (a newer
    `version`) is left alone, as the derived-attribute updates leave a concurrent edit alone."""
    for companion in companions:
        version = type(companion).get_attributes().get("version")
        condition = None
        if isinstance(version, NumberAttribute) and not isinstance(version, VersionAttribute) and companion.version:
            condition = version.does_not_exist() | (version <= companion.version)
        try:
            companion.save(condition=condition)
            stats.add(companions_added=1)
        except PutError as error:
            if idempotency.response_code(error) != "ConditionalCheckFailedException":  # a timeout: re-raised
                raise
            stats.add(skipped_concurrent_edit=1)


def _segment(
    segment: int,
    total: int,
    *,
    checkpoint: Checkpoint,
    budget: CapacityBudget,
    stats: BackfillStats,
    dry_run: bool,
    max_pages: int | None,
    page_size: int,
    on_page: Callable[[int], None] | None,
) -> None:
    last_key, done = checkpoint.position(segment)
    if done:
        return
    client = botocore_client()
    pages = 0
    while True:
        request = {"TableName": table_connection().table_name, "Segment": segment, "TotalSegments": total}
        request["Limit"] = page_size
        if last_key:
            request["ExclusiveStartKey"] = last_key
        response = client.scan(**request)
        consumed = response.get("ConsumedCapacity", {})
        budget.spend(float(consumed.get("CapacityUnits", 0) or 0))
        items = response.get("Items", [])
        actions, instances = [], []
        unchanged = 0
        for raw in items:
            planned = _plan(raw)
            if planned is None:
                unchanged += 1
            else:
                actions.append(_update_action(*planned))
            model = _model_for(raw)
            if model is not None:
                instances.append(model.from_raw_data(raw))
        for start in range(0, len(actions), TRANSACTION_SIZE):
            _write(actions[start : start + TRANSACTION_SIZE], stats, dry_run)
        companions = _companions_to_write(instances)
        if dry_run:
            stats.add(companions_added=len(companions))
        else:
            _put_companions(companions, stats)
        stats.add(scanned=len(items), unchanged=unchanged, pages=1)
        last_key = response.get("LastEvaluatedKey")
        if not dry_run:
            checkpoint.save(segment, last_key)
        pages += 1
        if on_page:
            on_page(len(items))
        if last_key is None or (max_pages is not None and pages >= max_pages):
            return


def backfill(
    *,
    segments: int = 4,
    only_segment: int | None = None,
    checkpoint_path: Path | None = None,
    rcu_per_second: float | None = None,
    dry_run: bool = False,
    max_pages: int | None = None,
    page_size: int = 500,
    on_page: Callable[[int], None] | None = None,
) -> BackfillStats:
    """Run the backfill over `segments` parallel Scan segments (or just `only_segment` of them)."""
    checkpoint = Checkpoint(checkpoint_path, segments)
    budget = CapacityBudget(rcu_per_second)
    stats = BackfillStats()
    chosen = [only_segment] if only_segment is not None else list(range(segments))
    if not dry_run and checkpoint.finished(chosen):
        # A finished run resumed would scan nothing: start a new one (and say so) instead.
        checkpoint.forget(chosen)
        stats.new_run_after_finished = True
    options = {
        "checkpoint": checkpoint,
        "budget": budget,
        "stats": stats,
        "dry_run": dry_run,
        "max_pages": max_pages,
        "page_size": page_size,
        "on_page": on_page,
    }
    with batch_job("dynamo_backfill"), ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        # Each thread carries the batch-job marker (context variables do not cross threads on their own).
        futures = [pool.submit(copy_context().run, _segment, s, segments, **options) for s in chosen]
        for future in futures:
            future.result()
    return stats

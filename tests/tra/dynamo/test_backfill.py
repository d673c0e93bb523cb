"""dynamo_backfill: derived attributes restored through a parallel Scan, resumably, never over a user's edit."""

import io

import pytest
from django.core.management import call_command

from assessments.models import Assessment, TitleWord
from tests.support import factories
from tra.dynamo import backfill as backfill_module
from tra.dynamo.backfill import backfill
from tra.dynamo.connection import botocore_client
from tra.dynamo.metering import meter

pytestmark = pytest.mark.usefixtures("dynamo_table")

DERIVED = ["owner_sort", "owner_status_sort", "status_key", "type_key"]


def written_before_the_indexes(count: int) -> list[Assessment]:
    """Assessments as an older release wrote them: no index keys, no title words."""
    client = botocore_client()
    items = [factories.assessment(owner_id="7", title=f"Legacy vendor {n}") for n in range(count)]
    for item in items:
        client.update_item(
            TableName="tra-test",
            Key={"pk": {"S": item.pk}, "sk": {"S": item.sk}},
            UpdateExpression="REMOVE " + ", ".join(DERIVED),
        )
        for word in TitleWord.query(item.pk, TitleWord.sk.startswith("WORD#")):
            word.delete()
    return items


def visible_in_by_owner() -> int:
    return len(list(Assessment.by_owner.query("7", Assessment.owner_sort.startswith("ASMT#"))))


def test_backfill_restores_index_keys_and_title_words_and_a_rerun_changes_nothing():
    written_before_the_indexes(6)
    assert visible_in_by_owner() == 0
    stats = backfill(segments=3)
    assert (stats.updated, stats.companions_added) == (6, 18)
    assert visible_in_by_owner() == 6
    assert [w.assessment_id for w in TitleWord.by_owner_word.query("7", TitleWord.word_sort.startswith("legacy"))]
    assert meter.unguarded_scans == 0  # every Scan ran inside the batch job, in every thread

    again = backfill(segments=3)
    assert (again.updated, again.companions_added) == (0, 0)
    assert again.unchanged == again.scanned


def test_an_interrupted_backfill_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    items = written_before_the_indexes(5)
    seen: list[str] = []
    real_plan = backfill_module._plan

    def spy(raw):
        if raw.get("entity_type", {}).get("S") == "assessment":
            seen.append(raw["pk"]["S"])
        return real_plan(raw)

    monkeypatch.setattr(backfill_module, "_plan", spy)
    checkpoint = tmp_path / "checkpoint.json"
    first = backfill(segments=1, checkpoint_path=checkpoint, page_size=4, max_pages=1)
    first_seen = set(seen)
    assert first.pages == 1 and checkpoint.exists()
    seen.clear()
    second = backfill(segments=1, checkpoint_path=checkpoint, page_size=4)
    # The second run starts where the first stopped: no assessment is read twice, none is missed.
    assert first_seen.isdisjoint(seen)
    assert first_seen | set(seen) == {item.pk for item in items}
    assert first.updated + second.updated == 5
    assert visible_in_by_owner() == 5
    seen.clear()
    again = backfill(segments=1, checkpoint_path=checkpoint, page_size=4)
    # Every segment was done: the next run starts over instead of silently scanning nothing.
    assert again.new_run_after_finished and not second.new_run_after_finished
    assert set(seen) == {item.pk for item in items} and again.updated == 0


def test_a_user_edit_during_the_backfill_is_never_overwritten(monkeypatch):
    [item] = written_before_the_indexes(1)
    real_plan = backfill_module._plan

    def plan_then_user_edits(raw):
        planned = real_plan(raw)
        if raw.get("entity_type", {}).get("S") == "assessment":
            current = Assessment.get(item.pk, item.sk)
            current.title = "Renamed by the owner"
            current.state = "in_progress"
            current.save()  # version 2, with its own fresh index keys
        return planned

    monkeypatch.setattr(backfill_module, "_plan", plan_then_user_edits)
    stats = backfill(segments=1)
    assert stats.skipped_concurrent_edit == 1 and stats.updated == 0
    stored = Assessment.get(item.pk, item.sk)
    assert (stored.title, stored.state, stored.version) == ("Renamed by the owner", "in_progress", 2)
    assert stored.owner_status_sort.startswith("ASMT#in_progress#")


def test_the_command_prints_a_summary_and_honours_dry_run(tmp_path):
    written_before_the_indexes(2)
    out = io.StringIO()
    call_command("dynamo_backfill", "--dry-run", "--segments", "2", stdout=out, stderr=io.StringIO())
    assert "would update 2" in out.getvalue()
    assert visible_in_by_owner() == 0
    out = io.StringIO()
    call_command(
        "dynamo_backfill", "--segment", "0", "--total-segments", "1", "--checkpoint", str(tmp_path / "c.json"),
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    assert "updated 2" in out.getvalue() and "had finished" not in out.getvalue()
    assert visible_in_by_owner() == 2
    out = io.StringIO()
    call_command("dynamo_backfill", "--segments", "1", "--checkpoint", str(tmp_path / "c.json"), stdout=out)
    assert "had finished: this was a new run" in out.getvalue() and "updated 0" in out.getvalue()


def test_title_words_written_before_they_carried_the_list_columns_are_rewritten_unless_newer():
    from assessments.selectors import assessment_list_mine
    from tra.http.auth import Actor

    current, raced = (factories.assessment(owner_id="7", title=f"Legacy vendor {n}") for n in range(2))
    client = botocore_client()
    for word in [*current.companion_items(), *raced.companion_items()]:  # as an older release wrote them
        client.update_item(
            TableName="tra-test",
            Key={"pk": {"S": word.pk}, "sk": {"S": word.sk}},
            UpdateExpression="REMOVE title, #s, version, created_at, updated_at, state_word_sort, state_word_bucket",
            ExpressionAttributeNames={"#s": "state"},
        )
    newer = raced.companion_items()[0]
    newer.version = raced.version + 1  # a service rewrote this one after the Scan read its assessment
    newer.save()
    meter.reset()
    owner = Actor(user_id="7", username="seven", is_staff=False, is_reviewer=False)
    before = assessment_list_mine(actor=owner, query="legacy vendor", limit=10, cursor=None)
    assert {row.title for row in before.items} == {"Legacy vendor 0", "Legacy vendor 1"}  # read from #META
    assert meter.calls("BatchGetItem") == 1

    stats = backfill(segments=1)
    assert (stats.companions_added, stats.skipped_concurrent_edit) == (5, 1)
    assert TitleWord.get(newer.pk, newer.sk).version == raced.version + 1  # left as the service wrote it
    rows = TitleWord.by_owner_state_word.query("7", TitleWord.state_word_sort.startswith("draft#vendor"))
    assert {row.assessment_id for row in rows} == {current.assessment_id, raced.assessment_id}
    meter.reset()
    page = assessment_list_mine(actor=owner, query="legacy vendor", limit=10, cursor=None)
    assert {row.title for row in page.items} == {"Legacy vendor 0", "Legacy vendor 1"}
    assert meter.calls("BatchGetItem") == 0
    assert backfill(segments=1).companions_added == 0

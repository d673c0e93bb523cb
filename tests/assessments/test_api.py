"""The assessments API against the real local DynamoDB server."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async

from assessments.models import AssessmentEvent, DocumentLink
from assessments.selectors import DETAIL_PAGE, RECENT_EVENTS
from tests.support.loop_guard import blocking_calls_on_event_loop
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import meter
from tra.dynamo.writes import batch_write

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]


async def create(client, title="Acme Cloud hosting", **extra):
    response = await client.post("/assessments", {"title": title, **extra})
    assert response.status == 201, response.body
    return response.body


async def test_create_returns_the_draft_and_records_a_created_event(users):
    body = await create(users["owner"], metadata={"vendor": "Acme"})
    assert (body["state"], body["version"], body["metadata"]) == ("draft", 1, {"vendor": "Acme"})
    detail = await users["owner"].get(f"/assessments/{body['id']}")
    assert detail.status == 200
    assert [event["event_type"] for event in detail.body["recent_events"]] == ["created"]
    assert detail.body["questions"] == detail.body["documents"] == detail.body["reviews"] == []


async def test_a_missing_title_is_422_naming_the_field(users):
    response = await users["owner"].post("/assessments", {"description": "no title"})
    assert response.status == 422
    assert response.error["code"] == "validation_failed"
    assert response.error["details"]["errors"][0]["field"] == "title"
    assert "title" in response.error["message"]


async def test_a_blank_title_is_422(users):
    response = await users["owner"].post("/assessments", {"title": "   "})
    assert response.status == 422
    assert "title" in response.error["message"]


async def test_requests_without_credentials_are_401(users):
    from tests.support.api import ApiClient

    assert (await ApiClient(None).get("/assessments")).status == 401
    bad = await ApiClient("tra_not-a-real-token").get("/assessments")
    assert bad.status == 401
    assert bad.error["code"] == "unauthorized"


async def test_list_mine_is_newest_first_and_paginates_by_cursor(users):
    ids = [(await create(users["owner"], title=f"Vendor {n}"))["id"] for n in range(3)]
    await create(users["other"], title="Not mine")

    first = await users["owner"].get("/assessments", limit=2)
    assert [item["id"] for item in first.body["items"]] == [ids[2], ids[1]]
    second = await users["owner"].get("/assessments", limit=2, cursor=first.body["next_cursor"])
    assert [item["id"] for item in second.body["items"]] == [ids[0]]
    assert second.body["next_cursor"] is None


async def test_a_tampered_cursor_is_400(users):
    await create(users["owner"])
    await create(users["owner"])
    page = await users["owner"].get("/assessments", limit=1)
    response = await users["owner"].get("/assessments", limit=1, cursor=page.body["next_cursor"] + "x")
    assert response.status == 400
    assert response.error["code"] == "invalid_cursor"


async def test_list_mine_filters_by_state_through_the_index(users):
    draft = await create(users["owner"], title="Draft one")
    submitted = await create(users["owner"], title="Submitted one")
    await users["owner"].post(f"/assessments/{submitted['id']}/transitions", {"action": "submit", "version": 1})
    page = await users["owner"].get("/assessments", state="submitted")
    assert [item["id"] for item in page.body["items"]] == [submitted["id"]]
    page = await users["owner"].get("/assessments", state="draft")
    assert [item["id"] for item in page.body["items"]] == [draft["id"]]


async def test_search_matches_any_word_prefix_case_insensitively(users):
    acme = await create(users["owner"], title="Acme Cloud-Hosting review")
    await create(users["owner"], title="Payroll vendor")
    await create(users["other"], title="Acme for someone else")
    for query in ("acm", "HOST", "clo acm", "Revie"):
        page = await users["owner"].get("/assessments", q=query)
        assert [item["id"] for item in page.body["items"]] == [acme["id"]], query
    assert (await users["owner"].get("/assessments", q="zzz")).body["items"] == []


async def test_renaming_replaces_the_search_words(users):
    body = await create(users["owner"], title="Old name")
    response = await users["owner"].patch(f"/assessments/{body['id']}", {"version": 1, "title": "Fresh title"})
    assert response.status == 200
    assert response.body["version"] == 2
    assert (await users["owner"].get("/assessments", q="old")).body["items"] == []
    assert [i["id"] for i in (await users["owner"].get("/assessments", q="fresh")).body["items"]] == [body["id"]]


async def test_a_state_filtered_multi_word_search_reads_what_it_shows_in_one_query(users):
    owner = users["owner"]
    wanted = await create(owner, title="Acme hosting")
    for n in range(12):  # the same words in another state, and the lead word in other titles
        await create(owner, title=f"Acme hosting {n}" if n % 2 else f"Acme payroll {n}")
    path = f"/assessments/{wanted['id']}"
    await owner.post(f"{path}/transitions", {"action": "submit", "version": 1})
    meter.reset()
    page = await owner.get("/assessments", q="acme hosting", state="submitted")
    assert [item["id"] for item in page.body["items"]] == [wanted["id"]]
    assert page.body["items"][0]["version"] == 2  # the search row is as fresh as the assessment
    stats = meter.snapshot()[("Query", "title_search_by_owner_state")]
    assert (stats.calls, stats.items) == (1, 1)  # the lead word "hosting" in that state: nothing else read
    assert meter.calls() == 1  # no BatchGetItem: the rows are the index's projection

    unfiltered = await owner.get("/assessments", q="hosting acm", limit=100)
    assert len(unfiltered.body["items"]) == 7  # "Acme hosting" and the six "Acme hosting <odd n>"


async def test_another_users_assessment_is_404_everywhere(users):
    body = await create(users["owner"])
    other = users["other"]
    path = f"/assessments/{body['id']}"
    assert (await other.get(path)).status == 404
    assert (await other.patch(path, {"version": 1, "title": "x"})).status == 404
    assert (await other.post(f"{path}/transitions", {"action": "submit", "version": 1})).status == 404
    assert (await other.get(f"{path}/questions")).status == 404
    assert (await other.post(f"{path}/questions", {"text": "Q?"})).status == 404
    assert (await other.get(f"{path}/events")).status == 404
    assert (await other.get("/assessments")).body["items"] == []


async def test_a_stale_version_is_409_with_the_current_version(users):
    body = await create(users["owner"])
    path = f"/assessments/{body['id']}"
    assert (await users["owner"].patch(path, {"version": 1, "description": "first"})).status == 200
    stale = await users["owner"].patch(path, {"version": 1, "description": "second"})
    assert stale.status == 409
    assert stale.error["details"]["current_version"] == 2


async def test_twenty_concurrent_updates_with_one_version_let_exactly_one_win(users):
    body = await create(users["owner"])
    path = f"/assessments/{body['id']}"
    version = 1
    for round_number in range(3):
        responses = await asyncio.gather(
            *(
                users["owner"].patch(path, {"version": version, "description": f"round {round_number} writer {n}"})
                for n in range(20)
            )
        )
        statuses = sorted(response.status for response in responses)
        assert statuses == [200] + [409] * 19
        winner = next(response.body for response in responses if response.status == 200)
        current = (await users["owner"].get(path)).body
        assert current["description"] == winner["description"]  # the accepted change is the one stored
        assert current["version"] == version + 1
        version = current["version"]
    events = (await users["owner"].get(f"{path}/events", limit=100)).body["items"]
    assert [event["event_type"] for event in events].count("updated") == 3


async def test_the_review_workflow_round_trip(users):
    owner, reviewer = users["owner"], users["reviewer"]
    body = await create(owner)
    path = f"/assessments/{body['id']}"

    submitted = await owner.post(f"{path}/transitions", {"action": "submit", "version": 1})
    assert submitted.body["state"] == "submitted"
    queue = await reviewer.get("/assessments/review-queue")
    assert body["id"] in [item["id"] for item in queue.body["items"]]

    no_comment = await reviewer.post(f"{path}/reviews", {"decision": "request_changes", "version": 2})
    assert no_comment.status == 422
    assert no_comment.error["details"]["field"] == "comment"

    changes = await reviewer.post(
        f"{path}/reviews", {"decision": "request_changes", "comment": "Attach the SOC 2 report", "version": 2}
    )
    assert changes.status == 201
    assert changes.body["assessment"]["state"] == "changes_requested"

    reopened = await owner.post(f"{path}/transitions", {"action": "reopen", "version": 3})
    resubmitted = await owner.post(f"{path}/transitions", {"action": "submit", "version": reopened.body["version"]})
    started = await reviewer.post(
        f"{path}/transitions", {"action": "start_review", "version": resubmitted.body["version"]}
    )
    assert started.body["state"] == "under_review"
    approved = await reviewer.post(f"{path}/reviews", {"decision": "approve", "version": started.body["version"]})
    assert approved.body["assessment"]["state"] == "approved"

    detail = (await owner.get(path)).body
    assert [review["decision"] for review in detail["reviews"]] == ["request_changes", "approve"]
    history = [(e["event_type"], e["to_state"]) for e in detail["recent_events"]]
    assert history == [
        ("reviewed", "approved"),
        ("start_review", "under_review"),
        ("submit", "submitted"),
        ("reopen", "in_progress"),
        ("reviewed", "changes_requested"),
        ("submit", "submitted"),
        ("created", "draft"),
    ]


async def test_illegal_transitions_are_409_and_change_nothing(users):
    body = await create(users["owner"])
    path = f"/assessments/{body['id']}"
    response = await users["owner"].post(f"{path}/transitions", {"action": "reopen", "version": 1})
    assert response.status == 409
    assert response.error["code"] == "invalid_state"
    early_review = await users["reviewer"].post(f"{path}/reviews", {"decision": "approve", "version": 1})
    assert early_review.status == 404  # not the reviewer's, and not submitted: a draft is private
    assert (await users["owner"].get(path)).body["version"] == 1


async def test_owners_cannot_review_and_non_reviewers_cannot_decide(users):
    reviewer_owned = await create(users["reviewer"], title="Reviewer's own vendor")
    path = f"/assessments/{reviewer_owned['id']}"
    await users["reviewer"].post(f"{path}/transitions", {"action": "submit", "version": 1})
    own = await users["reviewer"].post(f"{path}/reviews", {"decision": "approve", "version": 2})
    assert own.status == 403
    assert "own" in own.error["message"]

    body = await create(users["owner"])
    await users["owner"].post(f"/assessments/{body['id']}/transitions", {"action": "submit", "version": 1})
    staff = await users["staff"].post(f"/assessments/{body['id']}/reviews", {"decision": "approve", "version": 2})
    assert staff.status == 404  # a staff user without the reviewer permission cannot even see it
    assert (await users["staff"].get("/assessments/review-queue")).status == 403


async def test_list_reads_only_the_items_it_returns_whatever_the_table_holds(users):
    for n in range(30):
        await create(users["other"], title=f"Someone else's {n}")
    mine = [await create(users["owner"], title=f"Mine {n}") for n in range(3)]
    meter.reset()
    page = await users["owner"].get("/assessments", limit=10)
    assert len(page.body["items"]) == len(mine)
    stats = meter.snapshot()[("Query", "by_owner")]
    assert (stats.calls, stats.items, stats.scanned) == (1, 3, 3)


async def test_the_detail_page_is_four_queries(users):
    body = await create(users["owner"])
    path = f"/assessments/{body['id']}"
    await users["owner"].post(f"{path}/questions/import", {"questions": [{"text": f"Q{n}?"} for n in range(5)]})
    meter.reset()
    detail = await users["owner"].get(path)
    assert len(detail.body["questions"]) == 5
    assert detail.body["questions_next_cursor"] is None
    assert meter.calls() == meter.calls("Query", "table") == 4  # #META + links, events, questions, reviews


def long_history(assessment_id: str, *, events: int, links: int) -> None:
    """`events` audit events and `links` document links, written in BatchWriteItems."""
    start = utc_now() - timedelta(days=1)
    batch_write(
        puts=[
            AssessmentEvent.build(
                assessment_id=assessment_id,
                event_id=f"e{n:04d}",
                created_at=start + timedelta(seconds=n),
                event_type="updated",
                actor_id="1",
            )
            for n in range(events)
        ]
        + [
            DocumentLink.build(assessment_id=assessment_id, document_id=f"d{n:04d}", linked_by="1", linked_at=start)
            for n in range(links)
        ]
    )


async def test_the_detail_reads_a_bounded_number_of_items_whatever_its_history(users):
    body = await create(users["owner"])
    path = f"/assessments/{body['id']}"
    await sync_to_async(long_history)(body["id"], events=500, links=300)
    meter.reset()
    detail = (await users["owner"].get(path)).body
    assert meter.calls() == meter.calls("Query", "table") == 4
    assert meter.snapshot()[("Query", "table")].items == 1 + DETAIL_PAGE + RECENT_EVENTS  # not 801
    assert len(detail["documents"]) == DETAIL_PAGE and len(detail["recent_events"]) == RECENT_EVENTS
    newest = [event["id"] for event in detail["recent_events"]]
    assert newest[1:3] == ["e0499", "e0498"]  # newest first, after the assessment's own "created"

    # The cursors continue each list on its own endpoint, where the detail stopped.
    more = await users["owner"].get(f"{path}/documents", cursor=detail["documents_next_cursor"])
    assert more.status == 200
    assert [item["document_id"] for item in more.body["items"]][:2] == ["d0100", "d0101"]
    older = await users["owner"].get(f"{path}/events", cursor=detail["events_next_cursor"], limit=20)
    assert [item["id"] for item in older.body["items"]][:2] == ["e0480", "e0479"]
    replayed = await users["owner"].get(f"{path}/events", cursor=detail["documents_next_cursor"])
    assert replayed.status == 400  # one listing's cursor is refused on another


async def test_endpoints_make_no_blocking_call_on_the_event_loop(users, aws_clients):
    body = await create(users["owner"])  # warms the token lookup and the DynamoDB pool
    path = f"/assessments/{body['id']}"
    with blocking_calls_on_event_loop() as offences:
        assert (await users["owner"].get(path)).status == 200
        assert (await users["owner"].get("/assessments")).status == 200
        assert (await users["owner"].patch(path, {"version": 1, "title": "Renamed"})).status == 200
        assert (await users["owner"].post(f"{path}/questions", {"text": "Encrypted?"})).status == 201
    assert offences == []


async def test_dynamodb_unreachable_is_a_503_with_retry_after(users, settings):
    from devtools.local_dynamo.server import free_port

    await create(users["owner"])
    settings.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    response = await users["owner"].get("/assessments")
    assert response.status == 503
    assert response.error["code"] == "service_unavailable"
    assert response.headers["Retry-After"]

"""Reviewer admin pages for assessments: index queries only, one Query per page, versioned actions."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from assessments.models import Assessment
from tests.support import factories
from tests.support.api import make_user
from tra.dynamo.clock import utc_now
from tra.dynamo.metering import meter
from tra.dynamo.writes import batch_write

pytestmark = [pytest.mark.usefixtures("dynamo_table"), pytest.mark.django_db]

LIST = "/admin/dynamo/assessments/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people():
    return {
        "owner": make_user("olivia"),
        "reviewer": make_user("rita", reviewer=True),
        "staff": make_user("sam", staff=True),
    }


def submitted(owner, title="Acme Cloud hosting"):
    item = factories.assessment(owner_id=str(owner.pk), title=title, state="submitted")
    item.submitted_at = utc_now()
    item.save()
    return item


def test_a_user_who_is_not_staff_cannot_enter(people):
    response = signed_in(people["owner"]).get(LIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_index_lists_the_dynamodb_pages_with_the_orm_apps(people):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("ada", password="ada-password-123")
    response = signed_in(admin).get("/admin/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Reviews (DynamoDB)" in content and LIST in content
    assert "Authentication and Authorization" in content


def test_the_state_filter_and_search_use_indexes(people):
    one = submitted(people["owner"], "Acme Cloud hosting")
    factories.assessment(owner_id=str(people["owner"].pk), title="Acme draft", state="draft")
    client = signed_in(people["reviewer"])
    meter.reset()
    by_state = client.get(LIST, {"state": "submitted"}).content.decode()
    assert one.title in by_state and "Acme draft" not in by_state
    assert meter.calls("Query", "by_status") == 1

    found = client.get(LIST, {"q": "clo"}).content.decode()
    assert one.title in found and "Acme draft" not in found
    assert meter.calls("Query", "title_search") == 1

    meter.reset()
    two_words_in_a_state = client.get(LIST, {"q": "acme hosting", "state": "submitted"}).content.decode()
    assert one.title in two_words_in_a_state and "Acme draft" not in two_words_in_a_state
    stats = meter.snapshot()[("Query", "title_search_by_state")]
    assert (stats.calls, stats.items) == (1, 1)  # the state is in the key: nothing read to be dropped
    assert meter.calls("BatchGetItem") == 0  # the rows are the index's projection

    mine = client.get(LIST, {"owner": "olivia"}).content.decode()
    assert "Acme draft" in mine and one.title in mine
    assert meter.calls("Scan") == 0


def test_list_and_page_read_items_proportional_to_the_page_in_a_table_of_10000(people):
    now = utc_now()
    owner_id = str(people["owner"].pk)
    batch_write(
        puts=[
            Assessment.build(
                assessment_id=f"bulk{n:05d}",
                owner_id=owner_id,
                title=f"Vendor {n}",
                state="submitted",
                created_at=now,
                updated_at=now,
            )
            for n in range(10_000)
        ]
    )
    client = signed_in(people["reviewer"])
    meter.reset()
    first = client.get(LIST, {"state": "submitted", "size": 25})
    stats = meter.snapshot()[("Query", "by_status")]
    assert (stats.calls, stats.items, stats.scanned) == (1, 25, 25)
    next_url = re.search(r'href="(\?[^"]+)" id="next-page"', first.content.decode()).group(1).replace("&amp;", "&")

    meter.reset()
    second = client.get(LIST + next_url)
    assert second.status_code == 200
    assert "Page 2" in second.content.decode()
    assert meter.snapshot()[("Query", "by_status")].items == 25
    assert 'id="previous-page"' in second.content.decode()

    meter.reset()
    page = client.get(f"{LIST}bulk00042/")
    assert page.status_code == 200
    assert meter.calls("Query", "table") == 4  # #META + links, events, questions, reviews
    assert meter.calls("Scan") == 0


def test_the_assessment_page_shows_linked_documents_with_summaries_and_download_links(people):
    item = submitted(people["owner"])
    document = factories.document(owner_id=str(people["owner"].pk), filename="pentest.pdf")
    document.summary = "No critical findings."
    document.save()
    factories.link(item, document)
    page = signed_in(people["reviewer"]).get(f"{LIST}{item.assessment_id}/").content.decode()
    assert "pentest.pdf" in page and "No critical findings." in page
    assert f"/admin/dynamo/documents/{document.document_id}/download/" in page


def test_a_reviewer_requests_changes_and_sees_the_new_state_and_event(people):
    item = submitted(people["owner"])
    client = signed_in(people["reviewer"])
    page_url = f"{LIST}{item.assessment_id}/"
    response = client.post(
        page_url, {"decision": "request_changes", "comment": "Attach the pen test", "version": item.version}
    )
    assert response.status_code == 302
    page = client.get(page_url).content.decode()
    assert 'id="assessment-state">Changes requested<' in page and "changes_requested<" not in page
    assert "Reviewed</strong> → Changes requested" in page and "by rita" in page  # history says who acted
    reviews = page.split('id="reviews"')[1].split("</table>")[0]
    assert "Request changes" in reviews and "by rita" in reviews and "Attach the pen test" in reviews
    assert Assessment.get(*Assessment.key(item.assessment_id)).state == "changes_requested"
    entry = LogEntry.objects.get(object_id=item.assessment_id)
    assert "request_changes" in entry.change_message


def test_a_stale_page_gets_the_conflict_message_and_nothing_is_saved(people):
    item = submitted(people["owner"])
    client = signed_in(people["reviewer"])
    page_url = f"{LIST}{item.assessment_id}/"
    stale_version = item.version
    client.post(page_url, {"decision": "request_changes", "comment": "first", "version": stale_version})
    response = client.post(page_url, {"decision": "approve", "version": stale_version}, follow=True)
    content = response.content.decode()
    assert "changed by someone else" in content
    assert Assessment.get(*Assessment.key(item.assessment_id)).state == "changes_requested"
    assert LogEntry.objects.filter(object_id=item.assessment_id).count() == 1


def test_staff_without_the_reviewer_permission_can_read_but_not_act(people):
    item = submitted(people["owner"])
    client = signed_in(people["staff"])
    page_url = f"{LIST}{item.assessment_id}/"
    page = client.get(page_url).content.decode()
    assert 'id="review-form"' not in page
    response = client.post(page_url, {"decision": "approve", "version": item.version})
    assert response.status_code == 403
    assert Assessment.get(*Assessment.key(item.assessment_id)).state == "submitted"


def test_a_reviewer_cannot_review_their_own_assessment(people):
    own = submitted(people["reviewer"], "Rita's vendor")
    client = signed_in(people["reviewer"])
    page_url = f"{LIST}{own.assessment_id}/"
    assert 'id="review-form"' not in client.get(page_url).content.decode()
    response = client.post(page_url, {"decision": "approve", "version": own.version}, follow=True)
    assert "owners cannot review their own assessment" in response.content.decode().lower()
    assert Assessment.get(*Assessment.key(own.assessment_id)).state == "submitted"


def test_the_assessment_page_reads_a_bounded_number_of_items_and_pages_history_and_documents(people):
    from tests.assessments.test_api import long_history

    item = submitted(people["owner"])
    long_history(item.assessment_id, events=500, links=300)
    client = signed_in(people["reviewer"])
    meter.reset()
    page = client.get(f"{LIST}{item.assessment_id}/").content.decode()
    assert meter.calls("Query", "table") == 4
    assert meter.snapshot()[("Query", "table")].items == 1 + 100 + 20  # #META, a page of links, 20 events
    assert meter.calls("BatchGetItem") == 1  # the page's 100 documents (none exist here: shown as deleted)
    assert page.count("(deleted)") == 100 and "e0499" not in page  # events show their type and time

    older = re.search(r'href="([^"]+)" id="older-events"', page).group(1).replace("&amp;", "&")
    more = re.search(r'href="([^"]+)" id="more-documents"', page).group(1).replace("&amp;", "&")
    meter.reset()
    second = client.get(older)
    assert second.status_code == 200 and 'id="older-events"' in second.content.decode()
    assert meter.snapshot()[("Query", "table")].items == 1 + 100 + 20
    meter.reset()
    documents = client.get(more).content.decode()
    assert "d0100 (deleted)" in documents and "d0099 (deleted)" not in documents
    assert meter.calls("GetItem") == 1 and meter.snapshot()[("Query", "table")].items == 100 + 20

    refused = client.get(f"{LIST}{item.assessment_id}/?events=forged")
    assert refused.status_code == 302  # back to the first page, with a message


def test_the_page_numbers_questions_from_1_and_citations_name_their_files(people):
    from assessments.models import Citation, Question, Suggestion

    item = submitted(people["owner"])
    evidence = factories.document(owner_id=str(people["owner"].pk), filename="acme-soc2.pdf")
    now = utc_now()
    for order, text in [(0, "Is data encrypted?"), (5, "Is MFA enforced?")]:
        question = Question.build(
            assessment_id=item.assessment_id, question_id=Question.new_id(order), order=order, text=text,
            status="unanswered", created_at=now, updated_at=now,
        )  # fmt: skip
        question.suggestion = Suggestion(
            text="Yes.", confidence=0.9, provider="extractive", created_at=now,
            citations=[Citation(document_id=evidence.document_id, chunk=0, quote="AES-256 at rest")],
        )  # fmt: skip
        question.save()
    page = signed_in(people["reviewer"]).get(f"{LIST}{item.assessment_id}/").content.decode()
    questions = page.split('id="questions"')[1].split("</table>")[0]
    assert re.findall(r"<td>(\d+)</td>", questions) == ["1", "2"]
    assert questions.count(">acme-soc2.pdf</a>, passage 1") == 2
    assert f"document {evidence.document_id}" not in questions  # the file's name, not its hex id


def test_the_submitted_filter_lists_oldest_first_as_the_review_queue(people):
    from datetime import timedelta

    now = utc_now()
    for days, title in [(3, "Oldest vendor"), (1, "Newest vendor"), (2, "Middle vendor")]:
        item = factories.assessment(owner_id=str(people["owner"].pk), title=title, state="submitted")
        item.updated_at = item.submitted_at = now - timedelta(days=days)
        item.save()
    page = signed_in(people["reviewer"]).get(LIST, {"state": "submitted"}).content.decode()
    assert page.index("Oldest vendor") < page.index("Middle vendor") < page.index("Newest vendor")
    assert ">Submitted<" in page and ">submitted<" not in page  # state labels, not raw names
    approved = signed_in(people["reviewer"]).get(LIST, {"state": "approved"}).content.decode()
    assert "Changes requested" in approved  # the filter box's labels

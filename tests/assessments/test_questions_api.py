"""Questions: add, bulk import (JSON and CSV, batched), list in order, versioned answers."""

import asyncio

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tra.dynamo.metering import meter

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]


@pytest.fixture
async def assessment(users):
    response = await users["owner"].post("/assessments", {"title": "Questionnaire"})
    return response.body


async def test_questions_are_listed_in_questionnaire_order_across_pages(users, assessment):
    path = f"/assessments/{assessment['id']}/questions"
    await users["owner"].post(path, {"text": "Third?", "order": 30})
    await users["owner"].post(path, {"text": "First?", "order": 5})
    await users["owner"].post(path, {"text": "Appended?"})  # after the last: order 31
    first = await users["owner"].get(path, limit=2)
    second = await users["owner"].get(path, limit=2, cursor=first.body["next_cursor"])
    texts = [q["text"] for q in first.body["items"] + second.body["items"]]
    assert texts == ["First?", "Third?", "Appended?"]
    assert [q["order"] for q in first.body["items"] + second.body["items"]] == [5, 30, 31]


async def test_importing_300_questions_takes_12_batch_writes(users, assessment):
    questions = [{"text": f"Control {n}: is it in place?", "category": "controls"} for n in range(300)]
    meter.reset()
    response = await users["owner"].post(f"/assessments/{assessment['id']}/questions/import", {"questions": questions})
    assert response.status == 201
    assert response.body["imported"] == 300
    assert meter.calls("BatchWriteItem") == 12  # 300 / 25 per call
    page = await users["owner"].get(f"/assessments/{assessment['id']}/questions", limit=100)
    assert [q["text"] for q in page.body["items"]] == [q["text"] for q in questions[:100]]


async def test_an_import_of_more_than_1000_questions_is_422(users, assessment):
    response = await users["owner"].post(
        f"/assessments/{assessment['id']}/questions/import", {"questions": [{"text": "Q?"}] * 1001}
    )
    assert response.status == 422
    assert response.error["details"]["errors"][0]["field"] == "questions"


async def upload_csv(client, assessment_id: str, content: bytes):
    return await client.request(
        "post",
        f"/assessments/{assessment_id}/questions/import-csv",
        data={"file": SimpleUploadedFile("questions.csv", content, content_type="text/csv")},
    )


async def test_a_csv_import_reads_text_category_and_order(users, assessment):
    content = b'text,category,order\nDo you encrypt backups?,storage,2\n"Is MFA enforced, everywhere?",identity,1\n'
    response = await upload_csv(users["owner"], assessment["id"], content)
    assert response.status == 201, response.body
    page = await users["owner"].get(f"/assessments/{assessment['id']}/questions")
    assert [(q["text"], q["category"]) for q in page.body["items"]] == [
        ("Is MFA enforced, everywhere?", "identity"),
        ("Do you encrypt backups?", "storage"),
    ]


async def test_a_bad_csv_row_is_422_naming_the_row_and_nothing_is_imported(users, assessment):
    content = b"text,order\nFine question?,1\n,2\n"
    response = await upload_csv(users["owner"], assessment["id"], content)
    assert response.status == 422
    assert "row 3" in response.error["message"]
    page = await users["owner"].get(f"/assessments/{assessment['id']}/questions")
    assert page.body["items"] == []


async def test_a_csv_without_a_text_column_is_422(users, assessment):
    response = await upload_csv(users["owner"], assessment["id"], b"question\nWhat?\n")
    assert response.status == 422
    assert "'text' column" in response.error["message"]


async def test_answers_are_versioned_and_concurrent_answers_let_one_win(users, assessment):
    created = await users["owner"].post(f"/assessments/{assessment['id']}/questions", {"text": "Encrypted at rest?"})
    path = f"/assessments/{assessment['id']}/questions/{created.body['id']}/answer"
    responses = await asyncio.gather(
        *(users["owner"].put(path, {"answer": f"Yes, AES-256 ({n})", "version": 1}) for n in range(10))
    )
    assert sorted(r.status for r in responses) == [200] + [409] * 9
    conflict = next(r for r in responses if r.status == 409)
    assert conflict.error["details"]["current_version"] == 2
    winner = next(r for r in responses if r.status == 200).body
    stored = (await users["owner"].get(f"/assessments/{assessment['id']}")).body["questions"][0]
    assert (stored["answer"], stored["status"], stored["version"]) == (winner["answer"], "answered", 2)


async def test_questions_cannot_change_once_submitted(users, assessment):
    path = f"/assessments/{assessment['id']}"
    await users["owner"].post(f"{path}/transitions", {"action": "submit", "version": 1})
    response = await users["owner"].post(f"{path}/questions", {"text": "Late question?"})
    assert response.status == 409
    assert response.error["code"] == "invalid_state"


async def test_an_unknown_question_is_404(users, assessment):
    response = await users["owner"].put(
        f"/assessments/{assessment['id']}/questions/000001-doesnotexist/answer", {"answer": "x", "version": 1}
    )
    assert response.status == 404

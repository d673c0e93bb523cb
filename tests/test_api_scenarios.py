"""The product's real flows, end to end through the API, on the local DynamoDB server."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


async def upload(client, name: str, text: str):
    file = SimpleUploadedFile(name, text.encode(), content_type="text/plain")
    response = await client.request("post", "/documents", data={"file": file})
    assert response.status == 201, response.body
    return response.body


async def test_an_owner_prepares_and_submits_and_a_reviewer_approves(users):
    owner, reviewer = users["owner"], users["reviewer"]
    soc2 = await upload(owner, "soc2.txt", "SOC 2 Type II. Data at rest is encrypted with AES-256.")
    policy = await upload(owner, "policy.md", "# Access policy\n\nMFA is enforced for all administrators.")

    assessment = (await owner.post("/assessments", {"title": "Acme Cloud", "metadata": {"vendor": "Acme"}})).body
    path = f"/assessments/{assessment['id']}"
    imported = await owner.post(
        f"{path}/questions/import",
        {"questions": [{"text": "Is data encrypted at rest?"}, {"text": "Is MFA enforced?"}]},
    )
    assert imported.body["imported"] == 2
    linked = await owner.post(f"{path}/documents", {"document_ids": [soc2["id"], policy["id"]]})
    assert linked.body["linked"] == 2

    for question in imported.body["questions"]:
        answered = await owner.put(
            f"{path}/questions/{question['id']}/answer", {"answer": "Yes, see the evidence.", "version": 1}
        )
        assert answered.status == 200

    current = (await owner.get(path)).body
    submitted = await owner.post(f"{path}/transitions", {"action": "submit", "version": current["version"]})
    assert submitted.body["state"] == "submitted"

    queue = (await reviewer.get("/assessments/review-queue")).body["items"]
    assert [item["id"] for item in queue] == [assessment["id"]]
    detail = (await reviewer.get(path)).body
    assert {d["document_id"] for d in detail["documents"]} == {soc2["id"], policy["id"]}
    assert all(q["status"] == "answered" for q in detail["questions"])

    approved = await reviewer.post(f"{path}/reviews", {"decision": "approve", "version": detail["version"]})
    assert approved.body["assessment"]["state"] == "approved"
    assert (await reviewer.get("/assessments/review-queue")).body["items"] == []

    events = (await owner.get(f"{path}/events")).body["items"]
    assert [e["event_type"] for e in events] == [
        "reviewed",
        "submit",
        "documents_linked",
        "questions_imported",
        "created",
    ]


async def test_changes_requested_round_trip(users):
    owner, reviewer = users["owner"], users["reviewer"]
    assessment = (await owner.post("/assessments", {"title": "Payroll vendor"})).body
    path = f"/assessments/{assessment['id']}"
    question = (await owner.post(f"{path}/questions", {"text": "Do you have a DR plan?"})).body
    await owner.put(f"{path}/questions/{question['id']}/answer", {"answer": "Yes", "version": 1})
    await owner.post(f"{path}/transitions", {"action": "submit", "version": 1})

    changes = await reviewer.post(
        f"{path}/reviews", {"decision": "request_changes", "comment": "Attach the DR test report.", "version": 2}
    )
    assert changes.body["assessment"]["state"] == "changes_requested"

    owner_view = (await owner.get(path)).body
    assert owner_view["reviews"][0]["comment"] == "Attach the DR test report."
    reopened = await owner.post(f"{path}/transitions", {"action": "reopen", "version": owner_view["version"]})
    report = await upload(owner, "dr-test.txt", "Disaster recovery test passed in March; RTO 4 hours.")
    await owner.post(f"{path}/documents", {"document_ids": [report["id"]]})
    await owner.put(f"{path}/questions/{question['id']}/answer", {"answer": "Yes, tested in March", "version": 2})
    resubmitted = await owner.post(f"{path}/transitions", {"action": "submit", "version": reopened.body["version"]})
    assert resubmitted.body["state"] == "submitted"

    final = await reviewer.post(f"{path}/reviews", {"decision": "approve", "version": resubmitted.body["version"]})
    assert final.body["assessment"]["state"] == "approved"


async def test_two_users_cannot_see_each_others_things(users):
    olivia, oscar = users["owner"], users["other"]
    mine = (await olivia.post("/assessments", {"title": "Olivia's vendor"})).body
    theirs = (await oscar.post("/assessments", {"title": "Oscar's vendor"})).body
    my_document = await upload(olivia, "mine.txt", "Olivia's evidence")

    assert [a["id"] for a in (await olivia.get("/assessments")).body["items"]] == [mine["id"]]
    assert [a["id"] for a in (await oscar.get("/assessments")).body["items"]] == [theirs["id"]]
    assert (await oscar.get("/assessments", q="olivia")).body["items"] == []
    assert (await oscar.get(f"/assessments/{mine['id']}")).status == 404
    assert (await oscar.get(f"/documents/{my_document['id']}")).status == 404
    assert (await oscar.get("/documents")).body["items"] == []
    linking = await oscar.post(f"/assessments/{theirs['id']}/documents", {"document_ids": [my_document["id"]]})
    assert linking.status == 404

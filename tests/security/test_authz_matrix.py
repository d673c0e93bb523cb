"""Who may do what: every API endpoint and every custom admin page against five callers, from one table.

Callers: the owner of the objects, another user, a reviewer (staff with `tra.review_assessments`),
a staff user who is not a reviewer, and an anonymous caller. The rules (docs/architecture.md, "Auth"):

- another user's object is a 404, the same answer as a missing one: never a 403, never its data;
- anonymous is 401 on the API and is sent to the login page by the admin;
- owners read and change their own; reviewers read an assessment once it has been submitted (a draft
  stays private), may act as reviewers on it, but may not change it as its owner (403) nor review
  their own (403); a staff user who is not a reviewer has no reviewer rights on the API (the
  assessment is a 404, the review queue a 403) and may read but not act in the admin (403).

Every cell is checked (status, and for a non-owner that no private marker of the owner's objects is in
the body) and mismatches are collected, so a failure lists all of them. `test_every_endpoint_has_a_row`
fails when an endpoint or admin page is added without a row here. The number of cells is printed.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient

from tests.support.api import ApiClient
from tra.api import api

pytestmark = [pytest.mark.usefixtures("dynamo_table", "aws_clients")]

OWNER, OTHER, REVIEWER, STAFF, ANON = "owner", "other", "reviewer", "staff", "anonymous"
# The owner goes last in each row: its call may change the object (a transition, a delete).
CALLERS = (OTHER, REVIEWER, STAFF, ANON, OWNER)

# Words only the owner's objects contain. PRIVATE ones no other caller may ever see; SUBMITTED ones
# belong to the submitted assessment (and the document linked to it), which reviewers may read.
PRIVATE = ("Zephyr", "Marmot", "Ocelot", "Pangolin", "Wombat")
SUBMITTED = ("Quokka", "Ibex", "Narwhal", "Kestrel")
D1_TEXT = "SOC 2 report.\n\nNarwhal: data at rest is encrypted with AES-256."


# --- The API -------------------------------------------------------------------------------------------


def private(owner: int, *, reviewer: int = 404) -> dict[str, int]:
    """An object of the owner's that no one else may read (a draft assessment, a document, a chat)."""
    return {OTHER: 404, REVIEWER: reviewer, STAFF: 404, ANON: 401, OWNER: owner}


def submitted(*, reviewer: int, owner: int) -> dict[str, int]:
    """The owner's submitted assessment: reviewers read it; the others do not see it."""
    return {OTHER: 404, REVIEWER: reviewer, STAFF: 404, ANON: 401, OWNER: owner}


def signed_in(status: int, *, owner: int | None = None) -> dict[str, int]:
    """Anyone signed in (acting on their own things); anonymous is 401."""
    return {OTHER: status, REVIEWER: status, STAFF: status, ANON: 401, OWNER: status if owner is None else owner}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def staff_only() -> dict[str, int]:
    return {OTHER: 403, REVIEWER: 200, STAFF: 200, ANON: 401, OWNER: 403}


def reviewers_only() -> dict[str, int]:
    return {OTHER: 403, REVIEWER: 200, STAFF: 403, ANON: 401, OWNER: 403}


Body = Callable[["World", str], Awaitable[dict]]


async def no_body(world: "World", caller: str) -> dict:
    return {}


def json_body(payload: dict | Callable[["World", str], dict]) -> Body:
    async def body(world, caller):
        return {"payload": payload(world, caller) if callable(payload) else payload}

    return body


def query(params: dict) -> Body:
    async def body(world, caller):
        return {"data": params}

    return body


@dataclass
class Row:
    method: str
    route: str  # as registered, e.g. "/assessments/{assessment_id}"
    expect: dict[str, int]
    target: str = ""  # what the row points at, for the report
    path: dict[str, str] | Callable[["World", str], dict[str, str]] = field(default_factory=dict)
    body: Body = no_body

    def url(self, world: "World", caller: str) -> str:
        names = self.path(world, caller) if callable(self.path) else self.path
        return self.route.format(**{name: world.ids[key] for name, key in names.items()})


def a1(**extra) -> dict[str, str]:
    return {"assessment_id": "a1", **extra}


def a2(**extra) -> dict[str, str]:
    return {"assessment_id": "a2", **extra}


async def version_of(world: "World", key: str) -> int:
    """The current version (read by its owner): a refusal is then about who asks, never a stale version."""
    owner = world.clients[OWNER] if key != "a3" else world.clients[REVIEWER]
    return (await owner.get(f"/assessments/{world.ids[key]}")).body["version"]


async def question_version(world: "World", assessment: str, question: str) -> int:
    questions = (await world.clients[OWNER].get(f"/assessments/{world.ids[assessment]}/questions")).body["items"]
    return next(q["version"] for q in questions if q["id"] == world.ids[question])


def patch_body(key: str) -> Body:
    async def body(world, caller):
        return {"payload": {"title": "Zephyr renamed", "version": await version_of(world, key)}}

    return body


def transition_body(key: str, actions: dict[str, str]) -> Body:
    async def body(world, caller):
        return {"payload": {"action": actions.get(caller, "start"), "version": await version_of(world, key)}}

    return body


def review_body(key: str) -> Body:
    async def body(world, caller):
        return {"payload": {"decision": "approve", "version": await version_of(world, key)}}

    return body


def answer_body(assessment: str, question: str) -> Body:
    async def body(world, caller):
        return {"payload": {"answer": "Yes.", "version": await question_version(world, assessment, question)}}

    return body


def csv_body() -> Body:
    async def body(world, caller):
        file = SimpleUploadedFile("questions.csv", b"text\nIs backup tested?\n", content_type="text/csv")
        return {"data": {"file": file}}

    return body


def upload_body(same_text: str | None = None) -> Body:
    async def body(world, caller):
        text = same_text or f"Evidence uploaded by {caller}.\n\nBackups are encrypted."
        return {"data": {"file": SimpleUploadedFile(f"{caller}.txt", text.encode(), content_type="text/plain")}}

    return body


def login_body() -> Body:
    async def body(world, caller):
        # The owner signs in; everyone else tries the owner's name with a wrong password.
        password = "olivia-password-123" if caller == OWNER else "not-the-password"
        return {"payload": {"username": "olivia", "password": password}}

    return body


def own_draft(world: "World", caller: str) -> dict[str, str]:
    return {"assessment_id": f"mine-{caller}" if caller in (OTHER, REVIEWER, STAFF) else "a1"}


ROWS = [
    # --- open and account endpoints
    Row("GET", "/health", everyone(200)),
    Row("GET", "/auth/csrf", everyone(200)),
    Row("POST", "/auth/login", {**everyone(401), OWNER: 200}, body=login_body()),
    Row("GET", "/auth/me", signed_in(200)),
    Row("POST", "/auth/tokens", signed_in(201), body=json_body({"name": "spare"})),
    Row("GET", "/auth/tokens", signed_in(200)),
    Row("DELETE", "/auth/tokens/{token_id}", private(204), "the owner's spare token", {"token_id": "token"}),
    Row("POST", "/auth/logout", signed_in(204)),
    Row("GET", "/llm/stats", staff_only()),
    # --- assessments: collections
    Row("POST", "/assessments", signed_in(201), body=json_body({"title": "Another one"})),
    Row("GET", "/assessments", signed_in(200)),
    Row("GET", "/assessments/review-queue", reviewers_only()),
    # A draft (or work in progress never submitted) is its owner's: no queue lists it, not even for reviewers.
    Row("GET", "/assessments/review-queue", signed_in(422), "drafts", body=query({"state": "draft"})),
    Row("GET", "/assessments/review-queue", signed_in(422), "in progress", body=query({"state": "in_progress"})),
    Row("GET", "/assessments/review-queue", signed_in(422), "archived", body=query({"state": "archived"})),
    # The owner's words find nothing in anyone else's list.
    Row("GET", "/assessments", signed_in(200), "title search", body=query({"q": "zephyr"})),
    # --- the owner's draft (a1): private to the owner, reviewers included
    Row("GET", "/assessments/{assessment_id}", private(200), "draft", a1()),
    Row("PATCH", "/assessments/{assessment_id}", private(200), "draft", a1(), patch_body("a1")),
    Row(
        "POST",
        "/assessments/{assessment_id}/transitions",
        private(200),
        "draft",
        a1(),
        transition_body("a1", {REVIEWER: "start_review", STAFF: "start_review"}),
    ),
    Row("GET", "/assessments/{assessment_id}/events", private(200), "draft", a1()),
    Row("POST", "/assessments/{assessment_id}/reviews", private(403), "draft", a1(), review_body("a1")),
    Row("GET", "/assessments/{assessment_id}/reviews", private(200), "draft", a1()),
    Row("GET", "/assessments/{assessment_id}/questions", private(200), "draft", a1()),
    Row(
        "POST",
        "/assessments/{assessment_id}/questions",
        private(201),
        "draft",
        a1(),
        json_body({"text": "Added question?"}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/questions/import",
        private(201),
        "draft",
        a1(),
        json_body({"questions": [{"text": "Imported question?"}]}),
    ),
    Row("POST", "/assessments/{assessment_id}/questions/import-csv", private(201), "draft", a1(), csv_body()),
    Row(
        "PUT",
        "/assessments/{assessment_id}/questions/{question_id}/answer",
        private(200),
        "draft",
        a1(question_id="q1"),
        answer_body("a1", "q1"),
    ),
    Row("GET", "/assessments/{assessment_id}/documents", private(200), "draft", a1()),
    Row(
        "POST",
        "/assessments/{assessment_id}/documents",
        private(200),
        "draft, the owner's second document",
        a1(),
        json_body(lambda world, caller: {"document_ids": [world.ids["d2"]]}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/documents",
        {OTHER: 404, REVIEWER: 404, STAFF: 404, ANON: 401, OWNER: 200},
        "the caller's own draft, the owner's document",
        own_draft,
        json_body(lambda world, caller: {"document_ids": [world.ids["d1"]]}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/documents/unlink",
        private(200),
        "draft",
        a1(),
        json_body(lambda world, caller: {"document_ids": [world.ids["d2"]]}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/questions/{question_id}/suggestion",
        private(200),
        "draft",
        a1(question_id="q1"),
    ),
    Row("POST", "/assessments/{assessment_id}/suggestions", private(200), "draft", a1()),
    # --- the owner's submitted assessment (a2): reviewers read and review it, never change it as its owner
    Row("GET", "/assessments/{assessment_id}", submitted(reviewer=200, owner=200), "submitted", a2()),
    Row("GET", "/assessments/{assessment_id}/events", submitted(reviewer=200, owner=200), "submitted", a2()),
    Row("GET", "/assessments/{assessment_id}/questions", submitted(reviewer=200, owner=200), "submitted", a2()),
    Row("GET", "/assessments/{assessment_id}/documents", submitted(reviewer=200, owner=200), "submitted", a2()),
    Row(
        "PATCH", "/assessments/{assessment_id}", submitted(reviewer=403, owner=409), "submitted", a2(), patch_body("a2")
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/questions",
        submitted(reviewer=403, owner=409),
        "submitted",
        a2(),
        json_body({"text": "Late question?"}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/questions/import",
        submitted(reviewer=403, owner=409),
        "submitted",
        a2(),
        json_body({"questions": [{"text": "Late import?"}]}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/questions/import-csv",
        submitted(reviewer=403, owner=409),
        "submitted",
        a2(),
        csv_body(),
    ),
    Row(
        "PUT",
        "/assessments/{assessment_id}/questions/{question_id}/answer",
        submitted(reviewer=403, owner=409),
        "submitted",
        a2(question_id="q2"),
        answer_body("a2", "q2"),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/documents",
        submitted(reviewer=403, owner=409),
        "submitted",
        a2(),
        json_body(lambda world, caller: {"document_ids": [world.ids["d2"]]}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/documents/unlink",
        submitted(reviewer=403, owner=409),
        "submitted",
        a2(),
        json_body(lambda world, caller: {"document_ids": [world.ids["d1"]]}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/questions/{question_id}/suggestion",
        submitted(reviewer=403, owner=200),
        "submitted",
        a2(question_id="q2"),
    ),
    Row("POST", "/assessments/{assessment_id}/suggestions", submitted(reviewer=403, owner=200), "submitted", a2()),
    Row(
        "POST",
        "/assessments/{assessment_id}/transitions",
        submitted(reviewer=200, owner=409),  # the reviewer starts the review; the owner cannot "start" it again
        "submitted",
        a2(),
        transition_body("a2", {REVIEWER: "start_review", STAFF: "start_review"}),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/reviews",
        submitted(reviewer=201, owner=403),  # staff who are not reviewers cannot even see it: 404
        "submitted",
        a2(),
        review_body("a2"),
    ),
    Row("GET", "/assessments/{assessment_id}/reviews", submitted(reviewer=200, owner=200), "submitted", a2()),
    # --- the reviewer's own submitted assessment (a3): nobody reviews their own
    Row(
        "POST",
        "/assessments/{assessment_id}/transitions",
        {OTHER: 404, REVIEWER: 403, STAFF: 404, ANON: 401, OWNER: 404},
        "the reviewer's own, submitted",
        {"assessment_id": "a3"},
        transition_body("a3", dict.fromkeys(CALLERS, "start_review")),
    ),
    Row(
        "POST",
        "/assessments/{assessment_id}/reviews",
        {OTHER: 404, REVIEWER: 403, STAFF: 404, ANON: 401, OWNER: 404},
        "the reviewer's own, submitted",
        {"assessment_id": "a3"},
        review_body("a3"),
    ),
    # --- documents
    Row("POST", "/documents", signed_in(201), body=upload_body()),
    # The same bytes as the owner's document: a new document of the caller's own, never the owner's (200).
    Row("POST", "/documents", signed_in(201, owner=200), "a copy of the owner's file", body=upload_body(D1_TEXT)),
    Row("GET", "/documents", signed_in(200)),
    Row("GET", "/documents/{document_id}", private(200), "linked to the submitted assessment", {"document_id": "d1"}),
    Row("GET", "/documents/{document_id}/assessments", private(200), "linked", {"document_id": "d1"}),
    Row("POST", "/documents/{document_id}/summary", private(200), "linked", {"document_id": "d1"}),
    Row("DELETE", "/documents/{document_id}", private(204), "unlinked", {"document_id": "d3"}),
    # --- chat
    Row("POST", "/chat/sessions", signed_in(201), "no assessment", body=json_body({"title": "mine"})),
    Row(
        "POST",
        "/chat/sessions",
        private(201),
        "tied to the owner's draft",
        body=json_body(lambda world, caller: {"assessment_id": world.ids["a1"]}),
    ),
    Row(
        "POST",
        "/chat/sessions",
        submitted(reviewer=201, owner=201),
        "tied to the owner's submitted assessment",
        body=json_body(lambda world, caller: {"assessment_id": world.ids["a2"]}),
    ),
    Row("GET", "/chat/sessions", signed_in(200)),
    Row("GET", "/chat/sessions/{session_id}", private(200), "the owner's chat", {"session_id": "s1"}),
    Row("GET", "/chat/sessions/{session_id}/messages", private(200), "the owner's chat", {"session_id": "s1"}),
    Row(
        "POST",
        "/chat/sessions/{session_id}/messages",
        private(201),
        "the owner's chat, a free message",
        {"session_id": "s1"},
        json_body({"text": "what's the status of this assessment?"}),
    ),
    Row(
        "POST",
        "/chat/sessions/{session_id}/messages",
        private(201),
        "the owner's chat, a message for the LLM tier",
        {"session_id": "s1"},
        json_body({"text": "what does the evidence say about encryption?"}),
    ),
    Row(
        "POST",
        "/chat/sessions/{session_id}/actions/{action_id}/confirm",
        private(200),
        "the owner's proposal to submit their draft",
        {"session_id": "s2", "action_id": "p1"},
    ),
]


# --- The admin -----------------------------------------------------------------------------------------

LOGIN = "login"  # a redirect to /admin/login/


def admin_read() -> dict[str, int | str]:
    """Admin pages: staff read them (reviewers or not); everyone else is sent to sign in."""
    return {OTHER: LOGIN, REVIEWER: 200, STAFF: 200, ANON: LOGIN, OWNER: LOGIN}


def admin_act(reviewer: int) -> dict[str, int | str]:
    """Admin actions: reviewers only; other staff 403; everyone else is sent to sign in."""
    return {OTHER: LOGIN, REVIEWER: reviewer, STAFF: 403, ANON: LOGIN, OWNER: LOGIN}


@dataclass
class AdminRow:
    method: str
    route: str  # as mounted under /admin/, e.g. "dynamo/assessments/<str:assessment_id>/"
    expect: dict[str, int | str]
    target: str = ""
    key: str | None = None  # the world id that fills the route's one parameter
    form: Callable[["World"], Awaitable[dict]] | None = None

    def url(self, world: "World") -> str:
        route = self.route
        if self.key:
            start, end = route.index("<"), route.index(">")
            route = route[:start] + world.ids[self.key] + route[end + 1 :]
        return f"/admin/{route}"


def review_form(key: str, decision: str) -> Callable[["World"], Awaitable[dict]]:
    async def form(world):
        return {"decision": decision, "comment": "checked", "version": await version_of(world, key)}

    return form


ADMIN_ROWS = [
    AdminRow("GET", "dashboard/", admin_read()),
    AdminRow("GET", "dynamo/assessments/", admin_read()),
    AdminRow("GET", "dynamo/assessments/<str:assessment_id>/", admin_read(), "draft", "a1"),
    AdminRow("GET", "dynamo/assessments/<str:assessment_id>/", admin_read(), "submitted", "a4"),
    # The reviewer's decision lands (a redirect back to the page); staff who are not reviewers get 403.
    AdminRow(
        "POST",
        "dynamo/assessments/<str:assessment_id>/",
        admin_act(302),
        "review a submitted assessment",
        "a4",
        review_form("a4", "request_changes"),
    ),
    # The reviewer's own: refused with a message on the page (a redirect), nothing changes (checked below).
    AdminRow(
        "POST",
        "dynamo/assessments/<str:assessment_id>/",
        admin_act(302),
        "review one's own assessment",
        "a3",
        review_form("a3", "approve"),
    ),
    AdminRow("GET", "dynamo/documents/", admin_read()),
    AdminRow("GET", "dynamo/documents/<str:document_id>/", admin_read(), "linked", "d1"),
    AdminRow("POST", "dynamo/documents/<str:document_id>/", admin_act(302), "regenerate the summary", "d1"),
    AdminRow("GET", "dynamo/documents/<str:document_id>/download/", admin_read(), "linked", "d1"),
    AdminRow("GET", "dynamo/chat/", admin_read()),
    AdminRow("GET", "dynamo/chat/<str:session_id>/", admin_read(), "the owner's chat", "s1"),
]


# --- The world -----------------------------------------------------------------------------------------


@dataclass
class World:
    clients: dict[str, ApiClient]
    ids: dict[str, str] = field(default_factory=dict)


async def created(response, status: int = 201) -> dict:
    assert response.status == status, response.body
    return response.body


async def upload(client: ApiClient, name: str, text: str) -> dict:
    file = SimpleUploadedFile(name, text.encode(), content_type="text/plain")
    return await created(await client.request("post", "/documents", data={"file": file}))


async def assessment_with_question(client: ApiClient, title: str, question: str, documents=()) -> tuple[dict, dict]:
    assessment = await created(await client.post("/assessments", {"title": title}))
    path = f"/assessments/{assessment['id']}"
    [item] = (await created(await client.post(f"{path}/questions/import", {"questions": [{"text": question}]})))[
        "questions"
    ]
    if documents:
        await created(await client.post(f"{path}/documents", {"document_ids": list(documents)}), 200)
    return assessment, item


async def submit(client: ApiClient, assessment: dict) -> None:
    path = f"/assessments/{assessment['id']}/transitions"
    await created(await client.post(path, {"action": "submit", "version": assessment["version"]}), 200)


@pytest.fixture
async def world(users, settings, tmp_path) -> World:
    """Built once, through the API: the owner's documents, a draft and a submitted assessment (each with a
    question and a linked document), a chat tied to the draft and a spare token; the reviewer's own
    submitted assessment; a draft of each other caller's own."""
    settings.MEDIA_ROOT = tmp_path
    caches["llm"].clear()
    owner, reviewer = users[OWNER], users[REVIEWER]
    world = World(clients={**users, ANON: ApiClient(None)})
    d1 = await upload(owner, "Kestrel-soc2.txt", D1_TEXT)
    d2 = await upload(owner, "second-policy.txt", "Access policy.\n\nMFA is enforced for administrators.")
    d3 = await upload(owner, "Wombat-notes.txt", "Private notes.\n\nNot linked to anything.")
    first, q1 = await assessment_with_question(owner, "Zephyr draft", "Marmot: is data encrypted?", [d1["id"]])
    second, q2 = await assessment_with_question(owner, "Quokka vendor", "Ibex: is MFA enforced?", [d1["id"]])
    await submit(owner, second)
    own, _ = await assessment_with_question(reviewer, "Reviewer's own vendor", "Is it safe?")
    await submit(reviewer, own)
    for_admin, _ = await assessment_with_question(owner, "Quokka admin review", "Ibex: backups?")
    await submit(owner, for_admin)
    session = await created(await owner.post("/chat/sessions", {"title": "Ocelot chat", "assessment_id": first["id"]}))
    # A chat whose "submit it" left a proposal: only its owner may confirm it (and the owner's call does).
    proposed, _ = await assessment_with_question(owner, "Zephyr to submit", "Marmot: backups?")
    proposing = await created(await owner.post("/chat/sessions", {"assessment_id": proposed["id"]}))
    said = await created(await owner.post(f"/chat/sessions/{proposing['id']}/messages", {"text": "/submit"}))
    token = await created(await owner.post("/auth/tokens", {"name": "Pangolin token"}))
    world.ids.update(
        d1=d1["id"],
        d2=d2["id"],
        d3=d3["id"],
        a1=first["id"],
        q1=q1["id"],
        a2=second["id"],
        q2=q2["id"],
        a3=own["id"],
        a4=for_admin["id"],
        a5=proposed["id"],
        s1=session["id"],
        s2=proposing["id"],
        p1=said["reply"]["proposed_action"]["id"],
        token=str(token["id"]),
    )
    for caller in (OTHER, REVIEWER, STAFF):
        mine = await created(await users[caller].post("/assessments", {"title": f"{caller}'s own"}))
        world.ids[f"mine-{caller}"] = mine["id"]
    yield world
    caches["llm"].clear()


def leaked(caller: str, text: str) -> list[str]:
    if caller == OWNER:
        return []
    markers = PRIVATE if caller == REVIEWER else PRIVATE + SUBMITTED
    return [marker for marker in markers if marker in text]


async def check_api(world: World, mismatches: list[str]) -> int:
    cells = 0
    for row in ROWS:
        for caller in CALLERS:
            url = row.url(world, caller)
            response = await world.clients[caller].request(row.method.lower(), url, **await row.body(world, caller))
            cells += 1
            where = f"{row.method} {row.route} [{row.target or 'collection'}] as {caller}"
            if response.status != row.expect[caller]:
                mismatches.append(f"{where}: {response.status}, expected {row.expect[caller]}: {response.body}")
            if response.status >= 400 and (set(response.body or {}) != {"error"}):
                mismatches.append(f"{where}: error body not in the one shape: {response.body}")
            found = leaked(caller, json.dumps(response.body))
            if found:
                mismatches.append(f"{where}: the body shows {found}: {response.body}")
    return cells


async def check_admin(world: World, users, mismatches: list[str]) -> int:
    browsers = {ANON: AsyncClient()}
    for caller in (OWNER, OTHER, REVIEWER, STAFF):
        browsers[caller] = AsyncClient()
        await browsers[caller].aforce_login(users[caller].user)
    cells = 0
    for row in ADMIN_ROWS:
        for caller in CALLERS:
            url = row.url(world)
            if row.method == "GET":
                response = await browsers[caller].get(url)
            else:
                response = await browsers[caller].post(url, await row.form(world) if row.form else {})
            cells += 1
            where = f"admin {row.method} {row.route} [{row.target or 'list'}] as {caller}"
            expected = row.expect[caller]
            location = response.get("Location", "")
            if expected == LOGIN:
                ok = response.status_code == 302 and location.startswith("/admin/login/")
            elif expected == 302:
                ok = response.status_code == 302 and location == url  # back to the page, with a message
            else:
                ok = response.status_code == expected
            if not ok:
                mismatches.append(f"{where}: {response.status_code} {location}, expected {expected}")
    return cells


async def test_every_caller_gets_what_the_rules_say_on_every_endpoint_and_admin_page(users, world):
    mismatches: list[str] = []
    api_cells = await check_api(world, mismatches)
    admin_cells = await check_admin(world, users, mismatches)

    # What the actions left behind: the reviewer's decisions landed, nobody else's did.
    owner, reviewer = users[OWNER], users[REVIEWER]
    state = {key: (await reviewer.get(f"/assessments/{world.ids[key]}")).body["state"] for key in ("a2", "a3", "a4")}
    assert state == {"a2": "approved", "a3": "submitted", "a4": "changes_requested"}, state
    assert [r["decision"] for r in (await owner.get(f"/assessments/{world.ids['a2']}/reviews")).body["items"]] == [
        "approve"
    ]
    assert (await reviewer.get(f"/assessments/{world.ids['a3']}/reviews")).body["items"] == []
    assert (await owner.get(f"/assessments/{world.ids['a1']}")).body["title"] == "Zephyr renamed"
    assert (await owner.get(f"/assessments/{world.ids['a5']}")).body["state"] == "submitted"  # confirmed by its owner
    assert (await owner.get(f"/documents/{world.ids['d3']}")).status == 404  # deleted by its owner only
    assert (await owner.get(f"/documents/{world.ids['d1']}")).status == 200

    assert not mismatches, "\n".join(mismatches)
    print(
        f"\nauthorization matrix: {api_cells} API cells ({len(ROWS)} rows x {len(CALLERS)} callers) + "
        f"{admin_cells} admin cells ({len(ADMIN_ROWS)} rows x {len(CALLERS)} callers) = {api_cells + admin_cells}"
    )


def registered_api_operations() -> set[tuple[str, str]]:
    operations = set()
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    operations.add((method, (prefix + path) or "/"))
    return operations


def registered_admin_pages() -> set[str]:
    return {"dashboard/"} | {route for route, _view, _name in admin.site.page_urls()}


def test_every_endpoint_and_admin_page_has_a_row():
    assert {(row.method, row.route) for row in ROWS} == registered_api_operations()
    assert {row.route for row in ADMIN_ROWS} == registered_admin_pages()
    # Each admin page is checked with every method it answers: the pages with actions with POST too.
    assert {row.route for row in ADMIN_ROWS if row.method == "POST"} == {
        "dynamo/assessments/<str:assessment_id>/",
        "dynamo/documents/<str:document_id>/",
    }

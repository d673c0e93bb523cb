"""The chat router's labelled messages: templates x slot fillers, in two disjoint halves.

The training half also holds the compositional messages of composed.py (most of it); noise.py
has the typos both halves get.

    python manage.py train_router --corpus     writes tests/chat/corpus/train.jsonl and heldout.jsonl

TRAIN templates and slot values (vendors, documents, fillers) are what the classifier learns
from, together with the hand-written messages of tests/chat/corpus/handwritten.jsonl. HELDOUT
templates were written separately, in other words, with other vendor and document names and
other fillers; the held-out file is only ever measured, never trained or tuned on (the
classifier's thresholds are chosen on training templates set aside fold by fold, see
devtools/train_router.py). The same typo kinds (swapped, dropped, doubled and neighbouring
letters) are applied to both halves, with different seeds. Seeded: the files are reproducible.
"""

import json
import random
from pathlib import Path

from ..router_heldout import HELDOUT_SLOTS, HELDOUT_TEMPLATES
from . import composed
from .noise import typo

COMPOSED_SEED = 19
COMPOSED_PER_FRAME = 40  # fills of each compositional frame

CORPUS = Path(__file__).resolve().parent.parent.parent / "tests" / "chat" / "corpus"

# ---------------------------------------------------------------- training slot values
TRAIN_SLOTS = {
    "vendor": [
        "Acme Cloud",
        "Okta",
        "Zoom",
        "Salesforce",
        "Datadog",
        "Slack",
        "Stripe",
        "Atlassian",
        "HubSpot",
        "Workday",
        "Twilio",
        "Snowflake",
        "GitHub",
        "Dropbox",
        "Zendesk",
        "Notion",
        "Asana",
        "PagerDuty",
        "acme",
        "okta",
        "stripe",
        "datadog",
        "Globex Payroll",
        "Initech HR",
        "Umbrella Storage",
        "Hooli Mail",
    ],
    "assessment_noun": ["assessment", "review", "questionnaire", "vendor review", "vendor assessment", "risk review"],
    "document": [
        "soc2-report.pdf",
        "the SOC 2 report",
        "the pen test",
        "policy.docx",
        "the DPA",
        "the security policy",
        "isms-policy.pdf",
        "the ISO 27001 certificate",
        "the bridge letter",
        "pentest-2024.pdf",
        "the incident response plan",
        "the business continuity plan",
        "vendor-contract.pdf",
        "the SOC2 pdf",
        "the soc 2 type ii",
        "the disaster recovery plan",
        "the access control policy",
        '"Acme SOC2 Bridge Letter"',
        '"Okta Pen Test Results.pdf"',
        "the privacy policy",
        "the msa",
        "encryption-standard.docx",
    ],
    "docs": ["documents", "docs", "files", "uploads", "attachments", "pdfs", "evidence", "evidence files"],
    "assessments": ["assessments", "reviews", "questionnaires", "vendor reviews", "vendor assessments"],
    "state": [
        "submitted",
        "approved",
        "rejected",
        "draft",
        "in progress",
        "under review",
        "archived",
        "changes requested",
        "in review",
        "open",
    ],
    "question": [
        "q3",
        "question 4",
        "questions 1-3",
        "q7 and q8",
        "#12",
        "question 15",
        "q2, q5",
        "the unanswered questions",
    ],
    "topic_verb": [
        ("submit", "submit"),
        ("submit this assessment", "submit"),
        ("send it for review", "submit"),
        ("upload a document", "upload"),
        ("add evidence", "upload"),
        ("attach a pdf", "upload"),
        ("get a summary of a document", "summarize"),
        ("answer question 3", "answer"),
        ("fill in the questionnaire", "answer"),
        ("delete a file", "delete"),
        ("remove a document", "delete"),
        ("start a new assessment", "create"),
        ("create an assessment", "create"),
        ("share this with my manager", "share"),
        ("export the answers", "export"),
        ("withdraw a submission", "withdraw"),
        ("reopen an assessment", "reopen"),
    ],
    # Everyday ways of saying each action, combined with the templates of TRAIN_SYNONYM_TEMPLATES.
    "summarize_verb": [
        "summarize",
        "summarise",
        "sum up",
        "recap",
        "digest",
        "condense",
        "boil down",
        "brief me on",
        "give me the gist of",
        "give me an overview of",
        "give me the tl;dr of",
        "give me the highlights of",
        "give me the key points of",
        "give me a rundown of",
        "give me a synopsis of",
        "give me the short version of",
        "walk me through the main points of",
        "outline",
        "give me a précis of",
        "skim and summarize",
        "give me the executive summary of",
        "what's the bottom line of",
        "highlight the main findings of",
    ],
    "list_verb": [
        "list",
        "show",
        "display",
        "pull up",
        "bring up",
        "give me",
        "let me see",
        "show me",
        "open",
        "get me",
        "i want to see",
        "can i see",
        "view",
        "fetch",
        "enumerate",
        "find",
    ],
    "status_question": [
        "what's the status of",
        "status of",
        "progress on",
        "any update on",
        "any news on",
        "where are we on",
        "how far along is",
        "where does",
        "what stage is",
        "how is",
        "update me on",
        "what's happening with",
        "is there an update on",
        "check on",
        "what's the latest on",
        "how close to done is",
    ],
    "submit_verb": [
        "submit",
        "send in",
        "hand in",
        "turn in",
        "send off",
        "file",
        "push through",
        "finalize and submit",
        "lodge",
        "put forward",
        "send for review",
        "send to the reviewers",
        "submit for sign-off",
        "send for approval",
        "submit for review",
        "pass to the review team",
    ],
    "suggest_verb": [
        "suggest an answer for",
        "draft an answer for",
        "propose an answer to",
        "write a response to",
        "fill in",
        "pre-populate",
        "prefill",
        "autofill",
        "come up with an answer for",
        "take a stab at",
        "help me answer",
        "help me respond to",
        "draft wording for",
        "answer",
        "complete",
        "suggest responses to",
        "give me a draft for",
        "recommend an answer for",
    ],
    "subject": [
        "encryption",
        "mfa",
        "backups",
        "key rotation",
        "data retention",
        "incident response",
        "subprocessors",
        "access reviews",
        "logging",
        "vulnerability management",
        "sso",
        "gdpr",
        "data residency",
        "password rules",
        "background checks",
        "change management",
        "pen testing",
        "business continuity",
        "uptime",
        "breach notification",
    ],
    "mention": ["mention", "cover", "talk about", "say anything about", "address", "describe", "include", "discuss"],
    "prefix": [
        "hey",
        "hi",
        "pls",
        "please",
        "quick one:",
        "hey there,",
        "ok so",
        "um",
        "so",
        "yo",
        "hi team,",
        "good morning,",
        "sorry,",
        "one more thing:",
        "also",
    ],
    "suffix": [
        "thanks!",
        "thanks",
        "pls",
        "please",
        "before my 2pm call",
        "for tomorrow's meeting",
        "asap",
        "when you get a chance",
        "thx",
        "if you can",
        "real quick",
        "for the committee",
        ":)",
    ],
}

# ---------------------------------------------------------------- held-out slot values (disjoint)
TRAIN_TEMPLATES = {
    "summarize_document": [
        "summarize {document}",
        "summarise {document}",
        "can you summarize {document}?",
        "give me a summary of {document}",
        "i need a quick summary of {document}",
        "tldr of {document}",
        "tl;dr {document}",
        "what's the gist of {document}",
        "key points of {document}",
        "main takeaways from {document}",
        "overview of {document}",
        "sum up {document} for me",
        "recap {document}",
        "brief summary of {document} please",
        "could you summarize {document} for the {vendor} {assessment_noun}",
        "summarize the {vendor} {document}",
        "summary of every document on the {vendor} {assessment_noun}",
        "summarize all the {docs}",
        "give me an overview of the {docs}",
        "what are the highlights of {document}",
        "don't list the {docs}, just summarize {document}",
        "no need to list the {docs}, summarize {document}",
        "skip the status, i want a summary of {document}",
        "not the file list, a summary of {document}",
        "summarize {document} and then list the {docs}",
        "first summarize {document}, then check the status",
        "summarize {document} and suggest answers after",
        "i don't need the whole thing, just summarize {document}",
        "break down {document} for me",
        "what does {document} cover at a high level, in a few bullets",
        "executive summary of {document}",
        "condense {document} into a few lines",
        "give me the short version of {document}",
        "can i get a summary of {document}?",
        "could you pull together a summary of {document}",
        "summarize what was uploaded for {vendor}",
        "summarise the {vendor} {docs}",
    ],
    "suggest_answer": [
        "suggest an answer for {question}",
        "suggest answers for {question}",
        "draft an answer to {question}",
        "help me answer {question}",
        "propose answers for {question}",
        "fill in {question}",
        "prefill {question} from the evidence",
        "can you draft a response for {question}?",
        "what should i answer for {question}",
        "give me a suggested answer for {question}",
        "answer {question} using {document}",
        "draft responses for the {vendor} {assessment_noun}",
        "help me answer {question}, the one about encryption",
        "autofill the answers for the {vendor} {assessment_noun}",
        "suggest something for {question}",
        "write an answer for {question}",
        "draft answers for all the blank questions",
        "fill out the unanswered questions",
        "come up with an answer for {question} please",
        "answer {question} for me based on the {docs}",
        "don't submit yet, just draft answers for {question}",
        "no need for a summary, suggest answers for {question}",
        "suggest answers then submit",
        "pre-fill the {vendor} questionnaire",
        "propose a response to {question} from {document}",
        "can you answer {question}?",
        "i need draft answers for {question}",
        "help with {question}",
    ],
    "list_assessments": [
        "list my {assessments}",
        "show my {assessments}",
        "show me all my {state} {assessments}",
        "which {assessments} are {state}?",
        "list {state} {assessments}",
        "what {assessments} do i have",
        "pull up my {assessments}",
        "display my {state} {assessments}",
        "do i have any {assessments} with changes requested?",
        "do i have any {state} {assessments}?",
        "how many {assessments} do i have",
        "list the {vendor} {assessments}",
        "find {assessments} for {vendor}",
        'find {assessments} called "{vendor}"',
        "which of my {assessments} need changes?",
        "what's on my plate, list my {assessments}",
        "any {state} {assessments}?",
        "show every {assessment_noun} i own",
        "my {assessments} please",
        "give me a list of {state} {assessments}",
        "all {assessments}",
        "what {assessments} are still {state}",
        "list everything that's {state}",
        "which {assessments} are waiting on me",
        "show {assessments} for {vendor}",
        "don't summarize anything, just list my {assessments}",
        "list my {assessments} and then summarize {document}",
        "can you list my {state} {assessments}?",
        "i want to see all my {assessments}",
    ],
    "assessment_status": [
        "status of the {vendor} {assessment_noun}",
        "status of {vendor}",
        "what's the status of the {vendor} {assessment_noun}?",
        "has the {vendor} {assessment_noun} been approved yet?",
        "is the {vendor} {assessment_noun} still under review?",
        "how far along is the {vendor} {assessment_noun}",
        "progress on {vendor}?",
        "where are we with {vendor}",
        "where is the {vendor} {assessment_noun} at",
        "how many questions are left on the {vendor} {assessment_noun}",
        "has anyone reviewed the {vendor} {assessment_noun}",
        "was the {vendor} {assessment_noun} rejected?",
        "what state is the {vendor} {assessment_noun} in",
        "status?",
        "status please",
        "what's the status of this one",
        "is this {assessment_noun} complete?",
        "how is the {vendor} {assessment_noun} going",
        "any update on {vendor}?",
        "has {vendor} been approved",
        "is the {vendor} {assessment_noun} done",
        "did the reviewer request changes on {vendor}?",
        "how many questions are still unanswered",
        "check the status of {vendor}",
        "where does {vendor} stand",
        "what stage is the {vendor} {assessment_noun} at",
        "don't submit yet, just tell me the status",
        "don't list anything, what's the status of {vendor}",
        "is my {assessment_noun} ready to submit?",
        "status of okta review",
        "check on the {vendor} {assessment_noun} and list the {docs}",
        "update on the {vendor} {assessment_noun} please",
        "has the {vendor} review started",
        "percent complete for {vendor}?",
    ],
    "submit_assessment": [
        "submit the {vendor} {assessment_noun}",
        "submit the {vendor} {assessment_noun} for review",
        "submit it",
        "submit this {assessment_noun}",
        "please submit the {vendor} {assessment_noun}",
        "send the {vendor} {assessment_noun} for review",
        "send it to the reviewers",
        "i'm done, submit it",
        "go ahead and submit the {vendor} {assessment_noun}",
        "submit for approval",
        "submit {vendor}",
        "finalize and submit the {vendor} {assessment_noun}",
        "ok submit it now",
        "lets submit this one",
        "hand the {vendor} {assessment_noun} over for review",
        "submit my {assessment_noun}",
        "submit the {vendor} questionnaire",
        "please send this {assessment_noun} in for approval",
        "can you submit the {vendor} {assessment_noun}",
        "could you submit it for me",
        "don't summarize, just submit it",
        "no need for a summary, submit the {vendor} {assessment_noun}",
        "submit the {vendor} {assessment_noun} and then list my {assessments}",
        "kick off the review for {vendor}, submit it",
        "submit the {assessment_noun} for {vendor} please",
        "mark the {vendor} {assessment_noun} as submitted",
    ],
    "list_documents": [
        "list the {docs}",
        "show me the {docs}",
        "what {docs} are uploaded?",
        "which {docs} are attached to {vendor}",
        "{docs} for {vendor}",
        "list {docs} for the {vendor} {assessment_noun}",
        "pull up the {docs} for {vendor}",
        "display the {docs}",
        "what's in the folder for {vendor}",
        "is {document} processed yet?",
        "has {document} finished processing?",
        "which {docs} failed to process",
        "what {docs} have i uploaded",
        "show linked {docs}",
        "any {docs} still processing?",
        "how many {docs} are attached",
        "what {docs} do we have for the {vendor} {assessment_noun}",
        "list my {docs}",
        "what's been uploaded so far",
        "don't summarize anything, just list the {docs}",
        "don't summarize {document}, list the {docs}",
        "list the {docs} and summarize {document}",
        "show the {vendor} {docs}",
        "did {document} upload ok?",
        "are all the {docs} indexed",
        "can you list the {docs}?",
        "which pdfs are on the {vendor} {assessment_noun}",
        "show me what's attached",
        "what evidence is on file for {vendor}",
    ],
    "help": [
        "help",
        "help me",
        "what can you do?",
        "what can you help me with",
        "how does this work?",
        "what commands are there",
        "show me the commands",
        "i'm lost",
        "what are your features",
        "instructions please",
        "how do i use this?",
        "what kind of stuff can you do",
        "what are you for",
        "what can i ask you?",
        "what can this assistant do",
        "list commands",
        "help please, not sure what to type",
        "what are the available commands",
        "how does the assistant work",
        "what can i do here",
        "how do i get started?",
        "what do you do",
    ],
    "how_to": [
        "how do i {topic}?",
        "how can i {topic}",
        "can i {topic} now?",
        "should i {topic}?",
        "when can i {topic}?",
        "how do i {topic} for the {vendor} {assessment_noun}?",
        "is it possible to {topic}?",
        "can i {topic} yet",
        "should i {topic} already or wait?",
        "how would i {topic}",
        "what do i need to do to {topic}?",
        "when should i {topic}",
        "am i able to {topic} now?",
        "what's the way to {topic}?",
        "where do i go to {topic}?",
        "should we {topic} this week?",
        "can we {topic} before the review?",
        "how do you {topic} in tra?",
        "is it ok to {topic} now",
        "what happens if i {topic}?",
        "do i need anything before i {topic}?",
        "how do i {topic} the {vendor} {assessment_noun}",
    ],
    "general": [
        "what does {document} say about encryption?",
        "does {document} mention mfa?",
        "who is the auditor in {document}",
        "is customer data encrypted at rest according to {document}?",
        "what does the summary section of {document} say about scope",
        "does {vendor} support sso?",
        "is {vendor} high risk?",
        "what are the key risks with {vendor}?",
        "summarize the risks of working with {vendor}",
        "summarize how {vendor} handles backups in your own words",
        "submit a ticket to IT",
        "how do i submit an expense report",
        "submit a bug report to the vendor",
        "what does question 3 mean?",
        "why is question 7 relevant?",
        "which {docs} mention encryption?",
        "is {vendor}'s status page public?",
        "what's the status of remediation in {document}?",
        "list the subprocessors named in {document}",
        "list three risks from {document}",
        "the status of the findings in {document} is unclear",
        "who submitted the last {assessment_noun} for {vendor}?",
        "does the submitted evidence show background checks?",
        "what progress has {vendor} made on remediation?",
        "what happens after an assessment is approved?",
        "who approves {assessments} usually?",
        "thanks, that summary was useful",
        "great, thanks!",
        "ok cool",
        "what's the weather like",
        "tell me a joke",
        "does {vendor} encrypt data in transit?",
        "how many critical findings are in {document}?",
        "can a vendor be approved with open findings?",
        "what should our risk rating be for {vendor}?",
        "is there a bridge letter covering 2025?",
        "compare {document} and the pen test on logging",
        "how long are backups kept per {document}?",
        "which {docs} prove they do background checks?",
        "should we trust {vendor} with pii?",
        "is it risky to approve {vendor} with an old pentest?",
        "when was {document} last updated?",
        "what's the difference between soc 2 type 1 and type 2",
        "does {vendor} have a bug bounty?",
        "what does approved with conditions mean",
        "why was {vendor} rejected last time?",
        "how does {vendor} handle incident response?",
        "find the retention period in {document}",
        "quote the part of {document} on logical access",
        "are my uploaded files shared with {vendor}?",
        "what evidence supports the answer to question 4?",
        "can you explain question 9 to me?",
        "what's a good answer time for reviewers",
        "does the help center of {vendor} mention sso?",
        "where is customer data stored by {vendor}?",
        "what does {document} list as exceptions?",
        "how do they rotate keys according to the {docs}?",
        "is a pen test from 2022 still acceptable?",
        "what's an acceptable status for a soc 2 exception?",
        "do the {docs} say anything about gdpr?",
    ],
}

# Training templates built on the verb synonyms above.
TRAIN_SYNONYM_TEMPLATES = {
    "summarize_document": [
        "{summarize_verb} {document}",
        "can you {summarize_verb} {document}?",
        "please {summarize_verb} {document}",
        "could you {summarize_verb} {document} for me",
        "i need you to {summarize_verb} {document}",
        "{summarize_verb} the {docs} for {vendor}",
        "{summarize_verb} {document} from {vendor}",
    ],
    "suggest_answer": [
        "{suggest_verb} {question}",
        "can you {suggest_verb} {question}?",
        "please {suggest_verb} {question}",
        "{suggest_verb} {question} on the {vendor} {assessment_noun}",
        "could you {suggest_verb} {question} using the {docs}",
    ],
    "list_assessments": [
        "{list_verb} my {assessments}",
        "{list_verb} my {state} {assessments}",
        "{list_verb} all {state} {assessments}",
        "can you {list_verb} the {assessments} that are {state}",
        "{list_verb} the {assessments} i have",
    ],
    "assessment_status": [
        "{status_question} the {vendor} {assessment_noun}?",
        "{status_question} {vendor}",
        "{status_question} my {assessment_noun}",
        "{status_question} the {vendor} one",
        "{status_question} {vendor} {assessment_noun}",
    ],
    "submit_assessment": [
        "{submit_verb} the {vendor} {assessment_noun}",
        "{submit_verb} it",
        "{submit_verb} this {assessment_noun}",
        "please {submit_verb} the {vendor} {assessment_noun}",
        "can you {submit_verb} {vendor} now",
        "{submit_verb} {vendor}",
        "we're done, {submit_verb} it",
    ],
    "list_documents": [
        "{list_verb} the {docs}",
        "{list_verb} the {docs} for {vendor}",
        "{list_verb} the {docs} on the {vendor} {assessment_noun}",
        "{list_verb} what's in the {vendor} folder",
        "can you {list_verb} the {docs} attached to {vendor}",
        "{list_verb} my {docs}",
    ],
    "how_to": [
        "how do i {submit_verb} the {vendor} {assessment_noun}?",
        "should i {submit_verb} it now?",
        "can i {submit_verb} it yet?",
        "when can i {submit_verb} this?",
        "how do i {summarize_verb} a document",
        "is it ok to {submit_verb} {vendor} now?",
        "should we {submit_verb} the {vendor} {assessment_noun} today?",
        "am i allowed to {submit_verb} it?",
        "what do i need before i {submit_verb} it?",
        "how would i {list_verb} my {docs}?",
    ],
}

TRAIN_SYNONYM_TEMPLATES["general"] = [
    "what does {document} say about {subject}?",
    "does {document} {mention} {subject}?",
    "is {subject} covered in {document}?",
    "how does {vendor} handle {subject}?",
    "tell me about {vendor}'s {subject}",
    "where in {document} is {subject}?",
    "is there anything on {subject} in the {docs}?",
    "which {docs} {mention} {subject}?",
    "what's {vendor}'s policy on {subject}?",
    "explain the {subject} section of {document}",
    "summarize what {document} says about {subject}",
    "what's the status of {subject} remediation at {vendor}?",
    "list the {subject} controls in {document}",
    "show me where {document} talks about {subject}",
    "do the {docs} {mention} {subject}?",
    "is {vendor} good at {subject}?",
    "should we worry about {subject} at {vendor}?",
    "why does {document} skip {subject}?",
    "can {vendor} prove {subject}?",
    "what's a reasonable standard for {subject}?",
    "who owns {subject} at {vendor}?",
    "how do i explain {subject} to my manager?",
    "does the summary in {document} {mention} {subject}?",
]


# ---------------------------------------------------------------- held-out templates (written separately)
def _fill(template: str, slots: dict, rng: random.Random) -> str:
    topic = rng.choice(slots["topic_verb"])[0]
    values = {
        name: rng.choice(values) for name, values in slots.items() if name != "topic_verb" and f"{{{name}}}" in template
    }
    return template.format(topic=topic, **values)


def _vary(text: str, slots: dict, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        text = f"{rng.choice(slots['prefix'])} {text}"
    elif roll < 0.3:
        text = f"{text.rstrip('?.!')} {rng.choice(slots['suffix'])}"
    if rng.random() < 0.2:
        text = typo(text, rng)
    if rng.random() < 0.15:
        text = text.capitalize()
    elif rng.random() < 0.03:
        text = text.upper()
    return text


def generate(templates: dict, slots: dict, *, per_template: int, seed: int, prefix: str = "") -> list[dict]:
    rng = random.Random(seed)
    rows, seen = [], set()
    for intent, texts in templates.items():
        for number, template in enumerate(texts):
            fills = per_template if "{" in template else 3
            for _ in range(fills):
                text = _vary(_fill(template, slots, rng), slots, rng)
                if text.lower() not in seen:
                    seen.add(text.lower())
                    rows.append({"text": text, "intent": intent, "template": f"{prefix}{intent}:{number}"})
    return rows


def unseen() -> dict[str, set[str]]:
    """The held-out split's slot values and templates, lower-cased: what the training side must not use."""
    values = {
        slot: {value.lower() for value in HELDOUT_SLOTS[slot]} for slot in ("vendor", "document", "prefix", "suffix")
    }
    values["template"] = {template for texts in HELDOUT_TEMPLATES.values() for template in texts}
    return values


def _composed(heldout: list[dict]) -> tuple[list[dict], int]:
    """The compositional messages (composed.py), less any that equal a held-out line or name a held-out vendor.

    Their pools were written without looking at the held-out split; these checks only guarantee
    the split stays disjoint, whatever names or phrases happen to coincide. They remove, never add.
    """
    excluded = unseen()
    rows = composed.compose(
        COMPOSED_SEED, per_frame=COMPOSED_PER_FRAME, documents=TRAIN_SLOTS["document"], unseen=excluded
    )
    heldout_texts = {row["text"].lower() for row in heldout}
    kept = [
        row
        for row in rows
        if row["text"].lower() not in heldout_texts
        and not any(vendor in row["text"].lower() for vendor in excluded["vendor"])
    ]
    return kept, len(rows) - len(kept)


def write(progress=print) -> tuple[int, int]:
    """train.jsonl (templates, synonyms, compositional messages) and heldout.jsonl; returns their sizes.

    The held-out file depends only on its templates and on the first training corpus (templates,
    synonyms, hand-written lines), so growing the compositional part never changes it.
    """
    train = generate(TRAIN_TEMPLATES, TRAIN_SLOTS, per_template=18, seed=17)
    train += generate(TRAIN_SYNONYM_TEMPLATES, TRAIN_SLOTS, per_template=30, seed=18, prefix="synonym-")
    heldout = generate(HELDOUT_TEMPLATES, HELDOUT_SLOTS, per_template=10, seed=1717)
    handwritten = (CORPUS / "handwritten.jsonl").read_text().splitlines()
    unique = {json.loads(line)["text"].lower(): None for line in handwritten if line.strip()}
    for row in train:
        unique.setdefault(row["text"].lower(), row)
    trained = set(unique)
    heldout = [row for row in heldout if row["text"].lower() not in trained]
    composed_rows, dropped = _composed(heldout)
    for row in composed_rows:
        unique.setdefault(row["text"].lower(), row)
    train = [row for row in unique.values() if row is not None]  # a hand-written line is not repeated
    progress(f"composed: dropped {dropped} lines that equal a held-out line or name a held-out vendor")
    for name, rows in (("train.jsonl", train), ("heldout.jsonl", heldout)):
        (CORPUS / name).write_text("".join(json.dumps(row) + "\n" for row in rows))
    return len(train), len(heldout)

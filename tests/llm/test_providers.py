"""The extractive and Bedrock providers: summaries (map-reduce) and grounded, cited answers."""

import re

import pytest

from llm.providers import NOTHING_FOUND, BedrockProvider, ExtractiveProvider, extractive_summary
from llm.retrieval import local_retrieval

POLICY = (
    "Information Security Policy. "
    "This policy applies to every employee and contractor of Acme Cloud. "
    "Access to customer data requires multi-factor authentication and a documented business need. "
    "The weather in the office was pleasant that spring. "
    "Access to production systems is reviewed quarterly by the security team. "
    "Customer data access is logged and the logs are kept for one year. "
    "Lunch is served at noon. "
    "Security incidents involving customer data are reported to customers within 72 hours."
)


def grounded_model(request) -> str:
    """Plays a model: answers with the sentence sharing most words with the question, citing its passage."""
    prompt = request.last_user_text
    question = prompt.rsplit("Question: ", 1)[1]
    passages = dict(re.findall(r"^\[(\d+)\] (.*)$", prompt, re.MULTILINE))
    asked = set(re.findall(r"[a-z0-9]+", question.lower()))

    def overlap(text: str) -> int:
        return len(asked & set(re.findall(r"[a-z0-9]+", text.lower())))

    number, sentence = max(
        ((number, sentence) for number, text in passages.items() for sentence in re.split(r"(?<=\.) ", text)),
        key=lambda pair: overlap(pair[1]),
    )
    return f"{sentence} [{number}]"


# --- Extractive


def test_an_extractive_summary_keeps_the_sentences_about_the_main_subject_in_document_order():
    summary = extractive_summary(POLICY)
    assert "weather" not in summary and "Lunch" not in summary
    kept = [sentence for sentence in POLICY.split(". ") if sentence.rstrip(".") in summary]
    assert summary.index("multi-factor") < summary.index("logged") < summary.index("72 hours")
    assert len(kept) <= 5


def test_an_extractive_summary_is_deterministic_and_bounded():
    long_text = " ".join(f"Control {n} protects customer data with encryption and logging." for n in range(2000))
    assert extractive_summary(long_text) == extractive_summary(long_text)
    assert len(extractive_summary(long_text)) <= 1202


async def test_the_extractive_provider_labels_itself_and_reports_no_tokens():
    summary = await ExtractiveProvider().summarize(text=POLICY)
    assert (summary.provider, summary.model, summary.cache) == ("extractive", None, None)
    assert (summary.input_tokens, summary.output_tokens, summary.cost_usd) == (0, 0, 0.0)


async def test_an_extractive_answer_quotes_the_best_sentence_of_the_best_passage(corpus):
    retrieval = local_retrieval("How often are the encryption keys rotated?", corpus)
    suggestion = await ExtractiveProvider().answer(question="", retrieval=retrieval)
    assert suggestion.text == "Customer data is encrypted at rest with AES-256 and keys are rotated every 90 days."
    [citation] = suggestion.citations
    assert (citation.document_id, citation.chunk, citation.filename) == ("soc2", 1, "soc2-report.pdf")
    assert citation.quote == suggestion.text
    assert 0 < suggestion.confidence <= 1
    assert (suggestion.provider, suggestion.model) == ("extractive", None)


async def test_an_extractive_answer_with_nothing_relevant_says_so(corpus):
    retrieval = local_retrieval("Which quantum teleportation vendor?", corpus)
    suggestion = await ExtractiveProvider().answer(question="", retrieval=retrieval)
    assert (suggestion.text, suggestion.citations, suggestion.confidence) == (NOTHING_FOUND, [], 0.0)


# --- Bedrock summaries


async def test_a_short_text_is_summarised_in_one_call(fake_bedrock):
    summary = await BedrockProvider().summarize(text=POLICY)
    assert fake_bedrock.converse_calls == 1
    assert summary.text == f"FAKE {fake_bedrock.requests[0].digest}"
    assert (summary.provider, summary.model, summary.chunks, summary.cache) == (
        "bedrock",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        1,
        "miss",
    )
    assert summary.input_tokens > 0 and summary.cost_usd > 0


def document(*sections: str) -> str:
    return " ".join(f"Section {section} sentence {n} about controls." for section in sections for n in range(40))


async def test_a_long_text_is_summarised_part_by_part_then_combined(fake_bedrock, settings):
    settings.LLM_SUMMARY_CHUNK_CHARS = 1500
    text = document("alpha", "beta", "gamma")
    summary = await BedrockProvider().summarize(text=text)
    tasks = [request.system for request in fake_bedrock.requests]
    assert summary.chunks == len(tasks) - 1 >= 3
    assert tasks[-1].startswith("You are given summaries of consecutive parts")
    assert all(len(request.last_user_text) <= 1500 for request in fake_bedrock.requests[:-1])
    assert summary.text == f"FAKE {fake_bedrock.requests[-1].digest}"
    again = await BedrockProvider().summarize(text=text)
    assert (again.cache, again.text, again.input_tokens) == ("hit", summary.text, summary.input_tokens)
    assert fake_bedrock.converse_calls == summary.chunks + 1


async def test_a_document_extending_another_reuses_the_summaries_of_its_full_parts(fake_bedrock, settings):
    settings.LLM_SUMMARY_CHUNK_CHARS = 1500
    first = await BedrockProvider().summarize(text=document("alpha", "beta"))
    calls = fake_bedrock.converse_calls
    extended = await BedrockProvider().summarize(text=document("alpha", "beta") + " " + document("gamma"))
    # Every part of the first document but its last (now filled up with more text) is a cache hit.
    reused = first.chunks - 1
    assert fake_bedrock.converse_calls - calls == (extended.chunks - reused) + 1  # new parts and one combine


async def test_a_truncated_step_marks_the_summary_and_nothing_is_cached(fake_bedrock, settings):
    settings.LLM_SUMMARY_CHUNK_CHARS = 1500
    fake_bedrock.truncate = True
    text = document("alpha", "beta")
    summary = await BedrockProvider().summarize(text=text)
    assert summary.truncated
    calls = fake_bedrock.converse_calls
    fake_bedrock.truncate = False
    repeated = await BedrockProvider().summarize(text=text)
    assert not repeated.truncated
    assert fake_bedrock.converse_calls - calls == calls


async def test_a_blank_text_needs_no_call(fake_bedrock):
    summary = await BedrockProvider().summarize(text="   ")
    assert (summary.text, summary.chunks, fake_bedrock.converse_calls) == ("", 0, 0)


# --- Bedrock answers


async def test_a_bedrock_answer_cites_the_passage_it_relied_on_with_a_verbatim_quote(fake_bedrock, corpus):
    fake_bedrock.responder = grounded_model
    retrieval = local_retrieval("How long are backups kept?", corpus)
    suggestion = await BedrockProvider().answer(question="How long are backups kept?", retrieval=retrieval)
    assert suggestion.text == "Backups are taken daily, kept for 35 days, and restores are tested twice a year. [1]"
    [citation] = suggestion.citations
    assert (citation.document_id, citation.chunk) == ("policy", 1)
    assert citation.quote == "Backups are taken daily, kept for 35 days, and restores are tested twice a year."
    assert suggestion.confidence == retrieval.passages[0].relevance
    assert (suggestion.provider, suggestion.model, suggestion.cache) == (
        "bedrock",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "miss",
    )


async def test_passage_numbers_become_citation_numbers_and_unknown_ones_are_dropped(fake_bedrock, corpus):
    retrieval = local_retrieval("data encrypted training backups period", corpus)
    assert len(retrieval.passages) == 4
    fake_bedrock.responder = lambda request: "Data is encrypted [3]. Staff are trained [2, 9]. Backups too [3][7]."
    suggestion = await BedrockProvider().answer(question="", retrieval=retrieval)
    assert suggestion.text == "Data is encrypted [1]. Staff are trained [2]. Backups too [1]."
    cited = [(citation.document_id, citation.chunk) for citation in suggestion.citations]
    passages = retrieval.passages
    assert cited == [(passages[2].document_id, passages[2].chunk), (passages[1].document_id, passages[1].chunk)]


@pytest.mark.parametrize("reply", ["NOT_FOUND", "NOT_FOUND.", ""])
async def test_a_model_that_finds_no_answer_gives_no_citations_and_zero_confidence(fake_bedrock, corpus, reply):
    fake_bedrock.responder = lambda request: reply
    retrieval = local_retrieval("How long are backups kept?", corpus)
    suggestion = await BedrockProvider().answer(question="How long are backups kept?", retrieval=retrieval)
    assert (suggestion.text, suggestion.citations, suggestion.confidence) == (NOTHING_FOUND, [], 0.0)


async def test_an_answer_without_citations_is_kept_with_half_the_confidence(fake_bedrock, corpus):
    fake_bedrock.responder = lambda request: "Backups are kept for 35 days."
    retrieval = local_retrieval("How long are backups kept?", corpus)
    suggestion = await BedrockProvider().answer(question="How long are backups kept?", retrieval=retrieval)
    assert (suggestion.text, suggestion.citations) == ("Backups are kept for 35 days.", [])
    assert suggestion.confidence == round(retrieval.passages[0].relevance / 2, 2)


async def test_no_relevant_passage_means_no_bedrock_call(fake_bedrock, corpus):
    retrieval = local_retrieval("quantum teleportation", corpus)
    suggestion = await BedrockProvider().answer(question="quantum teleportation", retrieval=retrieval)
    assert (suggestion.text, suggestion.confidence, fake_bedrock.converse_calls) == (NOTHING_FOUND, 0.0, 0)


# A page of a protocol specification as a PDF extractor gives it: hard line breaks in the middle of
# sentences, a word hyphenated across lines, headings, a table of the wire format, a hex dump.
SPECIFICATION_PAGE = """Shared MIME-info Database

2.2. The cache file
Parents:
The cache file stores the parents of every MIME type so that a reader can look
them up without parsing the XML files again. Applications must check the ver-
sion number in the header before they read any other field.
4 CARD32 N_PARENTS
4*N_PARENTS CARD32 MIME_TYPE_OFFSET
4 CARD32 LITERAL_OFFSET
00000000 4d 49 4d 45 2d 4d 61 67 69 63 00 0a 5b 35 30 3a |MIME-Magic..[50:|
A reader that finds an unknown major version must ignore the
cache and fall back to the source files.
"""


def test_an_extractive_summary_of_a_pdf_joins_its_lines_and_leaves_out_tables_and_dumps():
    summary = extractive_summary(SPECIFICATION_PAGE)
    assert "\n" not in summary
    assert "look them up without parsing" in summary and "check the version number" in summary
    assert "must ignore the cache and fall back" in summary
    for noise in ("CARD32", "N_PARENTS", "4d 49", "MIME-Magic", "Parents:", "2.2."):
        assert noise not in summary, noise

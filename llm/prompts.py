"""Every text TRA sends to the model, and the messages built from it.

A system prompt is part of its requests' cache key, so rewording one starts a
new set of cached answers by itself; bump LLM_PROMPT_VERSION when what changes
is how a reply is read (the citation format, say).
"""

SUMMARY_SYSTEM = (
    "You summarise evidence documents (security policies, audit reports, certifications) for "
    "technology-risk reviewers. Write a concise, factual summary in plain prose of at most 200 words: "
    "what the document is, who issued it and for which period, the controls or commitments it states, "
    "and any exceptions, gaps or qualifications. Do not add anything that is not in the text."
)

SUMMARY_PART_SYSTEM = (
    "You summarise one part of a longer evidence document for technology-risk reviewers. Write a "
    "concise, factual summary of this part in plain prose of at most 150 words: the controls, "
    "commitments, dates, exceptions and gaps it states. Do not add anything that is not in the text."
)

SUMMARY_COMBINE_SYSTEM = (
    "You are given summaries of consecutive parts of one evidence document. Combine them into one "
    "concise, factual summary of the whole document in plain prose of at most 250 words: what it is, "
    "who issued it and for which period, the controls or commitments it states, and any exceptions, "
    "gaps or qualifications. Do not add anything that is not in the summaries."
)

NOT_FOUND = "NOT_FOUND"

SUGGESTION_SYSTEM = (
    "You help a vendor answer a technology-risk assessment questionnaire from its own evidence. "
    "Answer the question using only the numbered passages, in one to three sentences. After each "
    "statement cite the passages that support it by number in square brackets, for example [2]. "
    f"If the passages do not answer the question, reply with exactly {NOT_FOUND}."
)


def user_message(text: str) -> dict:
    return {"role": "user", "content": [{"text": text}]}


def suggestion_prompt(question: str, passages: list[str]) -> str:
    # Passages are numbered, not named: the document ids do not change the answer,
    # so they stay out of the prompt (and out of the cache key).
    numbered = "\n\n".join(f"[{number}] {passage}" for number, passage in enumerate(passages, start=1))
    return f"Passages:\n\n{numbered}\n\nQuestion: {question}"


def combine_prompt(summaries: list[str]) -> str:
    return "\n\n".join(f"Part {number}:\n{summary}" for number, summary in enumerate(summaries, start=1))

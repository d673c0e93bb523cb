"""Words, sentences and chunks (llm/text.py)."""

import pytest

from llm import text
from llm.text import chunks, sentences, singular, terms


def test_plural_stripping_matches_singular_and_plural_forms():
    assert [singular(word) for word in ["policies", "backups", "keys", "processes", "addresses", "databases"]] == [
        "policy",
        "backup",
        "key",
        "process",
        "address",
        "database",
    ]


def test_plural_stripping_leaves_words_that_only_end_in_s_alone():
    assert [singular(word) for word in ["access", "status", "analysis", "aes", "tls"]] == [
        "access",
        "status",
        "analysis",
        "aes",
        "tls",
    ]


def test_terms_are_lowercase_words_without_stop_words():
    assert terms("How are Backups of the Databases tested?") == ["backup", "database", "tested"]


def test_sentences_are_verbatim_slices_of_the_text():
    text = 'Backups run daily.  Restores are tested! "Is it quarterly?" Yes.\n\nNew paragraph without a stop'
    found = sentences(text)
    assert found == [
        "Backups run daily.",
        "Restores are tested!",
        '"Is it quarterly?"',
        "Yes.",
        "New paragraph without a stop",
    ]
    assert all(sentence in text for sentence in found)


def test_bullets_on_new_lines_are_sentences_of_their_own():
    assert sentences("Controls:\n- MFA for all staff\n- quarterly access reviews") == [
        "Controls:",
        "- MFA for all staff",
        "- quarterly access reviews",
    ]


def test_chunks_cut_after_sentences_and_never_exceed_the_limit():
    text = " ".join(f"Sentence number {n} is here." for n in range(200))
    pieces = chunks(text, 300)
    assert all(len(piece) <= 300 for piece in pieces)
    assert all(piece.endswith(".") for piece in pieces)
    assert " ".join(pieces) == text


def test_a_sentence_longer_than_a_chunk_is_cut_at_spaces():
    text = "word " * 500
    pieces = chunks(text, 120)
    assert all(0 < len(piece) <= 120 for piece in pieces)
    assert " ".join(pieces).split() == text.split()


def test_a_short_text_is_one_chunk_and_a_blank_one_none():
    assert chunks("  One sentence.  ", 100) == ["One sentence."]
    assert chunks("   ", 100) == []


@pytest.mark.parametrize(
    ("line", "table"),
    [
        ("4 CARD32 N_PARENTS number of parents", True),
        ("     2     CARD16                  sequence number", True),
        ("00000010 74 65 78 74 2f 78 2d 64 69 66 66 5d 0a 3e 30 3d |text/x-diff].>0=|", True),
        ("12 34 56 78", True),
        ("AWS KMS encrypts S3 data at rest.", False),
        ("All customer data at rest is encrypted with AES-256 and the keys", False),
        ("Backups are tested every quarter (Q1-Q4) by the SRE team", False),
        ("Table 3: Encryption settings", False),
    ],
)
def test_table_and_binary_rows_are_told_from_prose(line, table):
    assert text.is_table_row(line) is table


def test_prose_joins_a_paragraph_s_lines_and_keeps_headings_apart():
    extracted = "Encryption\nAll data is encrypted at rest with keys that ro-\ntate every year and\nare kept in a KMS."
    joined = "All data is encrypted at rest with keys that rotate every year and are kept in a KMS."
    assert text.prose(extracted) == f"Encryption\n\n{joined}"

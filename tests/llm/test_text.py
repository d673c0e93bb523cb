"""Words, sentences and chunks (llm/text.py)."""

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

import pytest

from tra.dynamo.cursor import decode_cursor, encode_cursor
from tra.errors import InvalidCursor

KEY = {"pk": {"S": "ASMT#1"}, "sk": {"S": "#META"}, "owner_id": {"S": "7"}, "owner_sort": {"S": "ASMT#2026"}}


def test_a_cursor_round_trips_to_the_last_evaluated_key():
    cursor = encode_cursor(KEY, scope="assessments.mine:7")
    assert "ASMT" not in cursor  # opaque: compressed and signed, not the raw key
    assert decode_cursor(cursor, scope="assessments.mine:7") == KEY


def test_no_last_key_means_no_cursor_and_no_cursor_means_the_first_page():
    assert encode_cursor(None, scope="x") is None
    assert decode_cursor(None, scope="x") is None


def test_a_tampered_cursor_is_refused():
    cursor = encode_cursor(KEY, scope="assessments.mine:7")
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(tampered, scope="assessments.mine:7")
    assert raised.value.extra == {"field": "cursor"}


def test_a_cursor_from_another_listing_is_refused():
    cursor = encode_cursor(KEY, scope="assessments.mine:7")
    with pytest.raises(InvalidCursor, match="does not belong"):
        decode_cursor(cursor, scope="assessments.mine:8")

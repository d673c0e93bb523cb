"""Global secondary indexes shared by several entity types (overloaded indexes).

An index here is declared on every model whose items it holds (Assessment,
Document, ChatSession declare `by_owner = ByOwner()` ...), so the model that owns
a read still names its index. Key values carry the entity type
(`ASMT#...`, `DOC#...`), so one index serves each type without mixing them, and
an item appears in an index only if it has that index's key attributes (sparse):
questions, events, messages and chunks project into none of these.

Projections list only what list pages show (docs/access-patterns.md); a detail
page reads the item itself.
"""

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

# Non-key attributes a list row needs, for any listed entity type.
LIST_ATTRIBUTES = [
    "entity_type",
    "title",
    "state",
    "status",
    "filename",
    "content_type",
    "size_bytes",
    "assessment_id",
    "created_at",
    "version",
    "message_count",
]


class ByOwner(GlobalSecondaryIndex):
    """ "My assessments / documents / chats", newest first: owner_id = U, begins_with(owner_sort, TYPE#)."""

    class Meta:
        index_name = "by_owner"
        projection = IncludeProjection([*LIST_ATTRIBUTES, "updated_at"])

    owner_id = UnicodeAttribute(hash_key=True)
    owner_sort = UnicodeAttribute(range_key=True)  # <TYPE>#<updated_at>


class ByOwnerStatus(GlobalSecondaryIndex):
    """ "My assessments in state S", newest first: owner_id = U, begins_with(owner_status_sort, TYPE#S#)."""

    class Meta:
        index_name = "by_owner_status"
        projection = IncludeProjection([*LIST_ATTRIBUTES, "updated_at"])

    owner_id = UnicodeAttribute(hash_key=True)
    owner_status_sort = UnicodeAttribute(range_key=True)  # <TYPE>#<state>#<updated_at>


class ByStatus(GlobalSecondaryIndex):
    """Review queue and batch jobs: status_key = TYPE#S, ordered by updated_at."""

    class Meta:
        index_name = "by_status"
        projection = IncludeProjection([*LIST_ATTRIBUTES, "owner_id"])

    status_key = UnicodeAttribute(hash_key=True)  # <TYPE>#<state or status>
    updated_at = UTCDateTimeAttribute(range_key=True)


class ByType(GlobalSecondaryIndex):
    """Admin lists of one entity type, newest first: type_key = TYPE."""

    class Meta:
        index_name = "by_type"
        projection = IncludeProjection([*LIST_ATTRIBUTES, "owner_id"])

    type_key = UnicodeAttribute(hash_key=True)  # ASMT | DOC | CHAT
    updated_at = UTCDateTimeAttribute(range_key=True)

"""Assessment item collection: the assessment and everything read with it.

One partition per assessment (`ASMT#<id>`) holds its #META item, questions,
reviews, audit events, document links and title-search words, so the detail
page is one Query. Key formats are produced and parsed here only.
"""

import re
import unicodedata
import uuid
from enum import StrEnum

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from tra.dynamo import keys
from tra.dynamo.clock import timestamp_key
from tra.dynamo.indexes import ByOwner, ByOwnerStatus, ByStatus, ByType
from tra.dynamo.models import TableModel

ASSESSMENT = "ASMT"
QUESTION = "Q"
REVIEW = "REV"
EVENT = "EVT"
LINK = "DOC"
WORD = "WORD"
RETRIEVAL = "RETRIEVAL"  # the sort key of an assessment's EvidenceVersion

MAX_TITLE_WORDS = 20  # bounds the items a title change writes in one transaction
MAX_WORD_LENGTH = 40
MAX_QUESTION_ORDER = 999_999  # six digits keep the order sortable as text


class AssessmentState(StrEnum):
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    ARCHIVED = "archived"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class QuestionStatus(StrEnum):
    UNANSWERED = "unanswered"
    ANSWERED = "answered"


def assessment_pk(assessment_id: str) -> str:
    return keys.join(ASSESSMENT, assessment_id)


def assessment_id_from_pk(pk: str) -> str:
    return keys.split(pk, ASSESSMENT, 1)[0]


class Assessment(TableModel, discriminator="assessment"):
    """`ASMT#<id>` / `#META`: title, owner, state (the review workflow), versioned."""

    owner_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    metadata = MapAttribute(default=dict)  # free-form: vendor, system, business unit...
    state = UnicodeAttribute(default=AssessmentState.DRAFT.value)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    submitted_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    # Index keys, derived from the attributes above on every write.
    owner_sort = UnicodeAttribute(null=True)
    owner_status_sort = UnicodeAttribute(null=True)
    status_key = UnicodeAttribute(null=True)
    type_key = UnicodeAttribute(null=True)

    by_owner = ByOwner()
    by_owner_status = ByOwnerStatus()
    by_status = ByStatus()
    by_type = ByType()

    @staticmethod
    def key(assessment_id: str) -> tuple[str, str]:
        return assessment_pk(assessment_id), keys.META

    @classmethod
    def build(cls, *, assessment_id: str, **attributes) -> "Assessment":
        return cls(*cls.key(assessment_id), **attributes)

    @property
    def assessment_id(self) -> str:
        return assessment_id_from_pk(self.pk)

    @property
    def metadata_dict(self) -> dict:
        # A raw MapAttribute holds a dict when set, a MapAttribute when loaded.
        value = self.metadata
        return value.as_dict() if isinstance(value, MapAttribute) else dict(value or {})

    @classmethod
    def owner_sort_prefix(cls) -> str:
        """`by_owner` sort-key prefix of every assessment: `ASMT#`."""
        return keys.prefix(ASSESSMENT)

    @classmethod
    def owner_status_sort_prefix(cls, state: str) -> str:
        """`by_owner_status` sort-key prefix of the assessments in `state`: `ASMT#<state>#`."""
        return keys.prefix(ASSESSMENT, state)

    def derive_attributes(self) -> None:
        updated = timestamp_key(self.updated_at)
        self.owner_sort = keys.join(ASSESSMENT, updated)
        self.owner_status_sort = keys.join(ASSESSMENT, self.state, updated)
        self.status_key = status_key(self.state)
        self.type_key = ASSESSMENT

    def companion_items(self) -> list[TableModel]:
        """One `TitleWord` per searchable word of the title (what word-prefix search queries),
        carrying the assessment's list columns as they are stored now."""
        return self.title_word_items(version=self.version)

    def title_word_items(self, *, version: int) -> list["TitleWord"]:
        """The title's `TitleWord` items with this assessment's list columns at `version` (a
        service writing the assessment passes the version the write will store). Every write
        of the assessment rewrites them, so a search page is read from the index alone."""
        columns = {
            "owner_id": self.owner_id,
            "title": self.title,
            "state": self.state,
            "version": version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        return [
            TitleWord.build(assessment_id=self.assessment_id, word=word, **columns) for word in title_words(self.title)
        ]


def status_key(state: str) -> str:
    """`by_status` hash key for assessments in `state` (the review queue)."""
    return keys.join(ASSESSMENT, state)


class Citation(MapAttribute):
    document_id = UnicodeAttribute()
    chunk = NumberAttribute()
    quote = UnicodeAttribute()


class Suggestion(MapAttribute):
    """An LLM (or extractive) answer proposal, kept until a human accepts it."""

    text = UnicodeAttribute()
    citations = ListAttribute(of=Citation, default=list)
    confidence = NumberAttribute()
    provider = UnicodeAttribute()
    model = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class Question(TableModel, discriminator="question"):
    """`ASMT#<id>` / `Q#<qid>`, where the question id starts with the zero-padded
    order (`000010-<random>`): the collection sorts in questionnaire order, and a
    question is still one GetItem by its id."""

    text = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    order = NumberAttribute()
    status = UnicodeAttribute(default=QuestionStatus.UNANSWERED.value)
    answer = UnicodeAttribute(null=True)
    answered_by = UnicodeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    suggestion = Suggestion(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def new_id(order: int) -> str:
        if not 0 <= order <= MAX_QUESTION_ORDER:
            raise ValueError(f"question order must be between 0 and {MAX_QUESTION_ORDER}")
        return f"{order:06d}-{uuid.uuid4().hex[:12]}"

    @staticmethod
    def key(assessment_id: str, question_id: str) -> tuple[str, str]:
        return assessment_pk(assessment_id), keys.join(QUESTION, question_id)

    @classmethod
    def build(cls, *, assessment_id: str, question_id: str, **attributes) -> "Question":
        return cls(*cls.key(assessment_id, question_id), **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return QUESTION + keys.SEPARATOR

    @property
    def assessment_id(self) -> str:
        return assessment_id_from_pk(self.pk)

    @property
    def question_id(self) -> str:
        return keys.split(self.sk, QUESTION, 1)[0]


class Review(TableModel, discriminator="review"):
    """`ASMT#<id>` / `REV#<ts>#<rid>`: a reviewer's decision; immutable."""

    reviewer_id = UnicodeAttribute()
    decision = UnicodeAttribute()
    comment = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(assessment_id: str, created_at, review_id: str) -> tuple[str, str]:
        return assessment_pk(assessment_id), keys.join(REVIEW, timestamp_key(created_at), review_id)

    @classmethod
    def build(cls, *, assessment_id: str, review_id: str, created_at, **attributes) -> "Review":
        return cls(*cls.key(assessment_id, created_at, review_id), created_at=created_at, **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return REVIEW + keys.SEPARATOR

    @property
    def review_id(self) -> str:
        return keys.split(self.sk, REVIEW, 2)[1]


class AssessmentEvent(TableModel, discriminator="assessment_event"):
    """`ASMT#<id>` / `EVT#<ts>#<eid>`: the audit trail; immutable, newest last."""

    event_type = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    from_state = UnicodeAttribute(null=True)
    to_state = UnicodeAttribute(null=True)
    details = MapAttribute(default=dict)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(assessment_id: str, created_at, event_id: str) -> tuple[str, str]:
        return assessment_pk(assessment_id), keys.join(EVENT, timestamp_key(created_at), event_id)

    @classmethod
    def build(cls, *, assessment_id: str, event_id: str, created_at, **attributes) -> "AssessmentEvent":
        return cls(*cls.key(assessment_id, created_at, event_id), created_at=created_at, **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return EVENT + keys.SEPARATOR

    @property
    def event_id(self) -> str:
        return keys.split(self.sk, EVENT, 2)[1]


class LinksByDocument(GlobalSecondaryIndex):
    """Inverted adjacency: which assessments use document D (linked_document_id = D)."""

    class Meta:
        index_name = "links_by_document"
        projection = IncludeProjection(["entity_type"])

    linked_document_id = UnicodeAttribute(hash_key=True)
    linked_at = UTCDateTimeAttribute(range_key=True)


class DocumentLink(TableModel, discriminator="document_link"):
    """`ASMT#<id>` / `DOC#<doc_id>`: adjacency item. Linking inserts it (conditional
    put), unlinking deletes it: neither touches the assessment item, so bulk link
    and unlink can never overwrite a concurrent edit."""

    linked_by = UnicodeAttribute()
    linked_at = UTCDateTimeAttribute()
    linked_document_id = UnicodeAttribute(null=True)  # derived, the inverted index's hash key

    by_document = LinksByDocument()

    @staticmethod
    def key(assessment_id: str, document_id: str) -> tuple[str, str]:
        return assessment_pk(assessment_id), keys.join(LINK, document_id)

    @classmethod
    def build(cls, *, assessment_id: str, document_id: str, **attributes) -> "DocumentLink":
        return cls(*cls.key(assessment_id, document_id), **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return LINK + keys.SEPARATOR

    @property
    def assessment_id(self) -> str:
        return assessment_id_from_pk(self.pk)

    @property
    def document_id(self) -> str:
        return keys.split(self.sk, LINK, 1)[0]

    def derive_attributes(self) -> None:
        self.linked_document_id = self.document_id


class EvidenceVersion(TableModel, discriminator="evidence_version"):
    """`ASMT#<id>` / `RETRIEVAL`: a counter moved (ADD 1) in the same transaction as every change
    of the assessment's set of linked documents, so a retrieval index built for one value is
    valid for exactly that link set (assessments/services/evidence.py). Its own item, not an
    attribute of `#META`: the workflow saves `#META` whole (a PutItem conditional on `version`),
    which would put back a value read before a concurrent link, and a counter that can go back
    would name two link sets. Absent until the first link: 0. In no index (no write cost there);
    `RETRIEVAL` sorts after `EVT#` and matches no collection prefix, so no listing reads it."""

    evidence_version = NumberAttribute(default=0)

    @staticmethod
    def key(assessment_id: str) -> tuple[str, str]:
        return assessment_pk(assessment_id), RETRIEVAL


def title_words(title: str) -> list[str]:
    """The searchable words of a title: case- and accent-folded, unique, bounded.

    "Acme Cloud-Hosting (2026)" -> ["acme", "cloud", "hosting", "2026"].
    """
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words: list[str] = []
    for word in re.findall(r"[a-z0-9]+", folded):
        word = word[:MAX_WORD_LENGTH]
        if word not in words:
            words.append(word)
        if len(words) == MAX_TITLE_WORDS:
            break
    return words


# What a search result row shows (AssessmentSummaryOut, the admin list), projected into the
# title-search indexes so that a search page is one Query; an index's own keys are projected anyway.
SEARCH_COLUMNS = ("entity_type", "title", "state", "owner_id", "version", "created_at", "updated_at")


def _search_projection(*own_keys: str) -> IncludeProjection:
    return IncludeProjection([name for name in SEARCH_COLUMNS if name not in own_keys])


class TitleSearchByOwner(GlobalSecondaryIndex):
    """Search my assessments by word prefix: owner_id = U AND begins_with(word_sort, prefix)."""

    class Meta:
        index_name = "title_search_by_owner"
        projection = _search_projection("owner_id")

    owner_id = UnicodeAttribute(hash_key=True)
    word_sort = UnicodeAttribute(range_key=True)  # <word>#<assessment_id>


class TitleSearchByOwnerState(GlobalSecondaryIndex):
    """... in one state: owner_id = U AND begins_with(state_word_sort, "<state>#<prefix>")."""

    class Meta:
        index_name = "title_search_by_owner_state"
        projection = _search_projection("owner_id")

    owner_id = UnicodeAttribute(hash_key=True)
    state_word_sort = UnicodeAttribute(range_key=True)  # <state>#<word>#<assessment_id>


class TitleSearch(GlobalSecondaryIndex):
    """Reviewer search over all assessments: word_bucket = first letter AND begins_with(word_sort, prefix)."""

    class Meta:
        index_name = "title_search"
        projection = _search_projection()

    word_bucket = UnicodeAttribute(hash_key=True)
    word_sort = UnicodeAttribute(range_key=True)


class TitleSearchByState(GlobalSecondaryIndex):
    """... in one state: state_word_bucket = "<state>#<first letter>" AND begins_with(word_sort, prefix)."""

    class Meta:
        index_name = "title_search_by_state"
        projection = _search_projection()

    state_word_bucket = UnicodeAttribute(hash_key=True)
    word_sort = UnicodeAttribute(range_key=True)


class TitleWord(TableModel, discriminator="title_word"):
    """`ASMT#<id>` / `WORD#<word>`: one item per title word, written with every write of the
    assessment in one transaction (its list columns ride along), so word-prefix search is one
    Query, never a Scan, and shows what it read."""

    owner_id = UnicodeAttribute()
    # The assessment's list columns (SEARCH_COLUMNS); null on items written before they existed,
    # until `dynamo_backfill` rewrites them (companion items that differ).
    title = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)

    word_sort = UnicodeAttribute(null=True)
    word_bucket = UnicodeAttribute(null=True)
    state_word_sort = UnicodeAttribute(null=True)
    state_word_bucket = UnicodeAttribute(null=True)

    by_owner_word = TitleSearchByOwner()
    by_owner_state_word = TitleSearchByOwnerState()
    by_word = TitleSearch()
    by_state_word = TitleSearchByState()

    @staticmethod
    def key(assessment_id: str, word: str) -> tuple[str, str]:
        return assessment_pk(assessment_id), keys.join(WORD, word)

    @classmethod
    def build(cls, *, assessment_id: str, word: str, **attributes) -> "TitleWord":
        return cls(*cls.key(assessment_id, word), **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return WORD + keys.SEPARATOR

    @property
    def word(self) -> str:
        return keys.split(self.sk, WORD, 1)[0]

    @property
    def assessment_id(self) -> str:
        return assessment_id_from_pk(self.pk)

    @staticmethod
    def state_word_prefix(state: str, prefix: str) -> str:
        """`title_search_by_owner_state` sort-key prefix: `<state>#<prefix>`."""
        return keys.join(state, prefix)

    @staticmethod
    def state_bucket(state: str, prefix: str) -> str:
        """`title_search_by_state` hash key: `<state>#<first letter>`."""
        return keys.join(state, prefix[0])

    def derive_attributes(self) -> None:
        self.word_sort = keys.join(self.word, self.assessment_id)
        self.word_bucket = self.word[0]
        if self.state:
            self.state_word_sort = keys.join(self.state, self.word, self.assessment_id)
            self.state_word_bucket = self.state_bucket(self.state, self.word)
        else:
            self.state_word_sort = self.state_word_bucket = None

    def as_assessment(self) -> "Assessment":
        """The search row as an Assessment carrying the list columns only (as an index page's
        items do): enough to list it; read the assessment itself for anything else."""
        return Assessment.build(
            assessment_id=self.assessment_id,
            owner_id=self.owner_id,
            title=self.title,
            state=self.state,
            version=self.version,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )

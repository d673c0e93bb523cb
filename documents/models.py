"""Evidence documents: the document, its extracted text chunks, its fingerprint.

`DOC#<id>` holds the #META item and the chunks (`CHUNK#<n>`), so retrieval over a
document is one Query. `DOCHASH#<owner>#<sha256>` makes duplicate detection a
GetItem and, written in the same transaction as the document, makes two
concurrent uploads of the same file by the same owner create one document.
"""

from enum import StrEnum

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from tra.dynamo import keys
from tra.dynamo.clock import timestamp_key
from tra.dynamo.indexes import ByOwner, ByOwnerStatus, ByStatus, ByType
from tra.dynamo.models import TableModel

DOCUMENT = "DOC"
CHUNK = "CHUNK"
FINGERPRINT = "DOCHASH"


class DocumentStatus(StrEnum):
    """File tracking: uploaded -> processing -> extracted -> summarized; or failed."""

    UPLOADED = "uploaded"
    PROCESSING = "processing"
    EXTRACTED = "extracted"  # text chunks ready, no summary yet (the summarize job's queue)
    SUMMARIZED = "summarized"
    FAILED = "failed"


def document_pk(document_id: str) -> str:
    return keys.join(DOCUMENT, document_id)


def document_id_from_pk(pk: str) -> str:
    return keys.split(pk, DOCUMENT, 1)[0]


class Document(TableModel, discriminator="document"):
    """`DOC#<id>` / `#META`: file metadata, storage key, processing status, summary."""

    owner_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size_bytes = NumberAttribute()
    sha256 = UnicodeAttribute()
    storage_key = UnicodeAttribute()
    status = UnicodeAttribute(default=DocumentStatus.UPLOADED.value)
    error = UnicodeAttribute(null=True)
    chunk_count = NumberAttribute(default=0)
    text_sha256 = UnicodeAttribute(null=True)  # the extracted text's; None on documents older than it
    summary = UnicodeAttribute(null=True)
    summary_provider = UnicodeAttribute(null=True)
    summary_model = UnicodeAttribute(null=True)
    summary_chunks = NumberAttribute(null=True)
    # What the summary was made from: "<content fingerprint>|<provider>|<model>|<prompt version>";
    # equal to summary_key_for(...) now means the stored summary is current (no text read, no LLM).
    summary_key = UnicodeAttribute(null=True)
    summarized_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    owner_sort = UnicodeAttribute(null=True)
    owner_status_sort = UnicodeAttribute(null=True)
    status_key = UnicodeAttribute(null=True)
    type_key = UnicodeAttribute(null=True)

    by_owner = ByOwner()
    by_owner_status = ByOwnerStatus()
    by_status = ByStatus()
    by_type = ByType()

    @staticmethod
    def key(document_id: str) -> tuple[str, str]:
        return document_pk(document_id), keys.META

    @classmethod
    def build(cls, *, document_id: str, **attributes) -> "Document":
        return cls(*cls.key(document_id), **attributes)

    @property
    def document_id(self) -> str:
        return document_id_from_pk(self.pk)

    @property
    def content_fingerprint(self) -> str:
        """What identifies the document's text without reading it: the text's hash, else the file's."""
        return f"text:{self.text_sha256}" if self.text_sha256 else f"file:{self.sha256}"

    def summary_key_for(self, summary_version: str) -> str:
        return f"{self.content_fingerprint}|{summary_version}"

    def summary_is_current(self, summary_version: str) -> bool:
        return self.summary is not None and self.summary_key == self.summary_key_for(summary_version)

    @classmethod
    def owner_sort_prefix(cls) -> str:
        """`by_owner` sort-key prefix of every document: `DOC#`."""
        return keys.prefix(DOCUMENT)

    @classmethod
    def owner_status_sort_prefix(cls, status: str) -> str:
        """`by_owner_status` sort-key prefix of the documents in `status`: `DOC#<status>#`."""
        return keys.prefix(DOCUMENT, status)

    def derive_attributes(self) -> None:
        for name, value in self.index_keys(self.status, self.updated_at).items():
            setattr(self, name, value)
        self.type_key = DOCUMENT

    @staticmethod
    def index_keys(status: str, updated_at) -> dict[str, str]:
        """The index keys a document in `status` updated at `updated_at` has (for an UpdateItem
        that changes them without a whole-item save)."""
        updated = timestamp_key(updated_at)
        return {
            "owner_sort": keys.join(DOCUMENT, updated),
            "owner_status_sort": keys.join(DOCUMENT, status, updated),
            "status_key": status_key(status),
        }


def status_key(status: str) -> str:
    """`by_status` hash key for documents in `status` (batch jobs' work queues)."""
    return keys.join(DOCUMENT, status)


class DocumentChunk(TableModel, discriminator="document_chunk"):
    """`DOC#<id>` / `CHUNK#<n:05>`: a passage of extracted text; citations point here."""

    text = UnicodeAttribute()
    page = NumberAttribute(null=True)
    start_offset = NumberAttribute()
    end_offset = NumberAttribute()

    @staticmethod
    def key(document_id: str, number: int) -> tuple[str, str]:
        return document_pk(document_id), keys.join(CHUNK, f"{number:05d}")

    @classmethod
    def build(cls, *, document_id: str, number: int, **attributes) -> "DocumentChunk":
        return cls(*cls.key(document_id, number), **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return CHUNK + keys.SEPARATOR

    @property
    def document_id(self) -> str:
        return document_id_from_pk(self.pk)

    @property
    def number(self) -> int:
        return int(keys.split(self.sk, CHUNK, 1)[0])


class DocumentFingerprint(TableModel, discriminator="document_fingerprint"):
    """`DOCHASH#<owner>#<sha256>` / `#META`: the owner's document with this content."""

    document_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(owner_id: str, sha256: str) -> tuple[str, str]:
        return keys.join(FINGERPRINT, owner_id, sha256), keys.META

    @classmethod
    def build(cls, *, owner_id: str, sha256: str, **attributes) -> "DocumentFingerprint":
        return cls(*cls.key(owner_id, sha256), **attributes)

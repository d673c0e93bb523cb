"""Chat sessions, their messages and the actions they propose, one item collection per session."""

from enum import StrEnum

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from tra.dynamo import keys
from tra.dynamo.clock import timestamp_key
from tra.dynamo.indexes import ByOwner, ByType
from tra.dynamo.models import TableModel

SESSION = "CHAT"
MESSAGE = "MSG"
PROPOSAL = "ACT"


class Intent(StrEnum):
    """What a message asks for (`ChatMessage.intent`); each runs a tool but general, which is answered."""

    SUMMARIZE_DOCUMENT = "summarize_document"
    SUGGEST_ANSWER = "suggest_answer"
    LIST_ASSESSMENTS = "list_assessments"
    ASSESSMENT_STATUS = "assessment_status"
    SUBMIT_ASSESSMENT = "submit_assessment"
    LIST_DOCUMENTS = "list_documents"
    HELP = "help"
    HOW_TO = "how_to"  # "how do I / can I / should I X": answered with how to do X, never X itself
    GENERAL = "general"


def session_pk(session_id: str) -> str:
    return keys.join(SESSION, session_id)


def session_id_from_pk(pk: str) -> str:
    return keys.split(pk, SESSION, 1)[0]


class ChatSession(TableModel, discriminator="chat_session"):
    """`CHAT#<id>` / `#META`: owner, optional assessment, title."""

    owner_id = UnicodeAttribute()
    title = UnicodeAttribute(default="")
    assessment_id = UnicodeAttribute(null=True)
    message_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    owner_sort = UnicodeAttribute(null=True)
    type_key = UnicodeAttribute(null=True)

    by_owner = ByOwner()
    by_type = ByType()

    @staticmethod
    def key(session_id: str) -> tuple[str, str]:
        return session_pk(session_id), keys.META

    @classmethod
    def build(cls, *, session_id: str, **attributes) -> "ChatSession":
        return cls(*cls.key(session_id), **attributes)

    @property
    def session_id(self) -> str:
        return session_id_from_pk(self.pk)

    @classmethod
    def owner_sort_prefix(cls) -> str:
        """`by_owner` sort-key prefix of every chat session: `CHAT#`."""
        return keys.prefix(SESSION)

    def derive_attributes(self) -> None:
        self.owner_sort = keys.join(SESSION, timestamp_key(self.updated_at))
        self.type_key = SESSION


class ChatMessage(TableModel, discriminator="chat_message"):
    """`CHAT#<id>` / `MSG#<ts>#<mid>`: one turn; records how it was routed. Immutable."""

    role = UnicodeAttribute()  # user | assistant
    content = UnicodeAttribute()
    intent = UnicodeAttribute(null=True)  # an Intent
    tier = UnicodeAttribute(null=True)  # regex | classifier | llm (keyword on messages routed before the classifier)
    confidence = NumberAttribute(null=True)
    tool_result = MapAttribute(null=True)
    input_tokens = NumberAttribute(null=True)
    output_tokens = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(session_id: str, created_at, message_id: str) -> tuple[str, str]:
        return session_pk(session_id), keys.join(MESSAGE, timestamp_key(created_at), message_id)

    @classmethod
    def build(cls, *, session_id: str, message_id: str, created_at, **attributes) -> "ChatMessage":
        return cls(*cls.key(session_id, created_at, message_id), created_at=created_at, **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return MESSAGE + keys.SEPARATOR

    @property
    def session_id(self) -> str:
        return session_id_from_pk(self.pk)

    @property
    def message_id(self) -> str:
        return keys.split(self.sk, MESSAGE, 2)[1]


class ProposalStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


class ChatProposal(TableModel, discriminator="chat_proposal"):
    """`CHAT#<id>` / `ACT#<action_id>`: a state-changing action a message asked for, waiting for the owner's
    confirmation (chat.services.proposal_confirm). `assessment_version` is the version the owner saw: a
    confirmation after the assessment changed is the API's usual 409. Pending until confirmed, once."""

    intent = UnicodeAttribute()  # an Intent that changes state (submit_assessment)
    assessment_id = UnicodeAttribute()
    assessment_version = NumberAttribute()
    title = UnicodeAttribute()  # the assessment's, when proposed
    summary = UnicodeAttribute()  # what confirming does, in a sentence
    status = UnicodeAttribute(default=ProposalStatus.PENDING.value)  # a ProposalStatus
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    confirmed_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(session_id: str, action_id: str) -> tuple[str, str]:
        return session_pk(session_id), keys.join(PROPOSAL, action_id)

    @classmethod
    def build(cls, *, session_id: str, action_id: str, **attributes) -> "ChatProposal":
        return cls(*cls.key(session_id, action_id), **attributes)

    @staticmethod
    def collection_prefix() -> str:
        return PROPOSAL + keys.SEPARATOR

    @property
    def session_id(self) -> str:
        return session_id_from_pk(self.pk)

    @property
    def action_id(self) -> str:
        return keys.split(self.sk, PROPOSAL, 1)[0]

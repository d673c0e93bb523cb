"""The retrieval index of an assessment: every passage of its linked documents, for one value of
its evidence version, so that a suggestion or an open chat question reads a bounded number of
items however many documents are linked.

Every change of an assessment's link set (link, unlink: assessments/services/links.py) moves its
evidence version (`EvidenceVersion`, ADD 1) in the same transaction as the links, so an index
built for (assessment, version) stays valid for as long as that version is current. A reader
reads the version (T7b: one GetItem, 1 item), then looks for the index, nearest first:

1. this process's LRU of parsed indexes (`Corpus`: the candidates with their BM25 index, so a
   repeated question does not re-tokenise thousands of passages);
2. the `default` cache (the index as gzip JSON);
3. durable storage (Django's `default` storage: local files, S3 in production) under
   `retrieval/<assessment_id>/<version>.json.gz`;
4. else it rebuilds it, once per version: T7's Query (strongly consistent) and the documents'
   evidence (documents.selectors.evidence_of: the cache, else DynamoDB), then reads the version
   again. Only when it has not moved is the index stored, under that version: a link committed
   while the links were read moves it, so no index is ever kept under a version whose link set
   it did not read (the rebuilt candidates still answer this one request).

Storing a version deletes the older versions' files; their cache entries expire
(INDEX_CACHE_SECONDS). A cache outage (tra.shared_cache) falls back to storage, a storage
failure to a rebuild: slower, never wrong. Documents can only be linked once their passages are
stored (an upload writes the chunks before the document), and a linked document cannot be
deleted (assessments/receivers.py), so only links and unlinks move the version.
"""

import gzip
import json
import logging
import re
import threading
from collections import OrderedDict

from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from documents import selectors as document_selectors
from llm.retrieval import Candidate, Corpus
from tra import shared_cache

from .. import selectors
from ..models import Assessment

logger = logging.getLogger(__name__)

INDEX_CACHE_SECONDS = 7 * 24 * 3600
INDEX_LRU_ENTRIES = 16  # parsed indexes kept per process (each holds its passages' tokens)
STORAGE_DIRECTORY = "retrieval"
FORMAT = 1
_STORED_NAME = re.compile(r"^(\d+)(.*)$")

_lru: OrderedDict[tuple[str, int], Corpus] = OrderedDict()
_lru_lock = threading.Lock()


def evidence_corpus(assessment: Assessment) -> Corpus:
    """The assessment's retrieval candidates, current as of its evidence version: one GetItem
    (T7b) when the index is in this process, the cache or storage; a rebuild otherwise."""
    version = selectors.evidence_version(assessment.assessment_id)
    key = (assessment.assessment_id, version)
    corpus = _remembered(key)
    if corpus is not None:
        return corpus
    blob = _cached(key)
    if blob is None:
        blob = _stored(key)
        if blob is not None:
            _cache(key, blob)
    if blob is not None:
        corpus = _decode(blob, key)
        if corpus is not None:
            _remember(key, corpus)
            return corpus
    return _rebuild(assessment, version)


def _rebuild(assessment: Assessment, version: int) -> Corpus:
    """The index read from the links themselves; kept only if the version did not move meanwhile."""
    links = selectors.links_of(assessment, consistent=True)
    evidence = document_selectors.evidence_of([link.document_id for link in links])
    documents = [
        {"document_id": document_id, "filename": found["filename"], "chunks": [list(c) for c in found["chunks"]]}
        for document_id, found in evidence.items()
    ]
    corpus = _corpus(documents)
    if selectors.evidence_version(assessment.assessment_id) != version:
        logger.info("assessment %s: links changed while its retrieval index was read; not kept", assessment.pk)
        return corpus
    key = (assessment.assessment_id, version)
    blob = gzip.compress(
        json.dumps(
            {"format": FORMAT, "assessment_id": key[0], "evidence_version": version, "documents": documents},
            separators=(",", ":"),
        ).encode()
    )
    _store(key, blob)
    _cache(key, blob)
    _remember(key, corpus)
    return corpus


def _corpus(documents: list[dict]) -> Corpus:
    """Candidates in link order, then passage order: the order the ranking breaks ties by."""
    return Corpus(
        Candidate(document_id=document["document_id"], chunk=int(number), text=text, filename=document["filename"])
        for document in documents
        for number, text in document["chunks"]
    )


def _decode(blob: bytes, key: tuple[str, int]) -> Corpus | None:
    try:
        data = json.loads(gzip.decompress(blob))
    except (OSError, EOFError, ValueError):
        logger.warning("retrieval index %s is unreadable; rebuilding it", key)
        return None
    if data.get("format") != FORMAT or (data.get("assessment_id"), data.get("evidence_version")) != key:
        return None
    return _corpus(data["documents"])


# --- this process ------------------------------------------------------------------------------


def _remembered(key: tuple[str, int]) -> Corpus | None:
    with _lru_lock:
        corpus = _lru.get(key)
        if corpus is not None:
            _lru.move_to_end(key)
        return corpus


def _remember(key: tuple[str, int], corpus: Corpus) -> None:
    with _lru_lock:
        _lru[key] = corpus
        _lru.move_to_end(key)
        while len(_lru) > INDEX_LRU_ENTRIES:
            _lru.popitem(last=False)


def forget_parsed_indexes() -> None:
    """Empty this process's LRU (tests: a cold process that finds the index in the cache or storage)."""
    with _lru_lock:
        _lru.clear()


# --- the shared cache --------------------------------------------------------------------------


def _cache_key(key: tuple[str, int]) -> str:
    return f"assessments:retrieval:{key[0]}:{key[1]}"


def _cached(key: tuple[str, int]) -> bytes | None:
    if not shared_cache.available():
        return None
    try:
        return caches["default"].get(_cache_key(key))
    except shared_cache.ERRORS as error:
        shared_cache.failed("retrieval index cache", error)
        return None


def _cache(key: tuple[str, int], blob: bytes) -> None:
    if not shared_cache.available():
        return
    try:
        caches["default"].set(_cache_key(key), blob, timeout=INDEX_CACHE_SECONDS)
    except shared_cache.ERRORS as error:
        shared_cache.failed("retrieval index cache", error)


# --- durable storage ---------------------------------------------------------------------------


def storage_path(assessment_id: str, version: int) -> str:
    return f"{STORAGE_DIRECTORY}/{assessment_id}/{version}.json.gz"


def _stored(key: tuple[str, int]) -> bytes | None:
    path = storage_path(*key)
    try:
        if not default_storage.exists(path):
            return None
        with default_storage.open(path, "rb") as stored:
            return stored.read()
    except FileNotFoundError:
        return None  # deleted since: a newer version was stored
    except Exception:  # noqa: BLE001 - storage is a copy: without it the index is rebuilt from DynamoDB
        logger.warning("retrieval index %s could not be read from storage", path, exc_info=True)
        return None


def _store(key: tuple[str, int], blob: bytes) -> None:
    """Write the index under its exact name (a concurrent builder of the same version wrote the same
    bytes: keep theirs), then delete the older versions' files."""
    path = storage_path(*key)
    try:
        if not default_storage.exists(path):
            default_storage.save(path, ContentFile(blob))
        _prune(key)
    except Exception:  # noqa: BLE001 - the cache and this process still hold it; the next cold reader rebuilds
        logger.warning("retrieval index %s could not be stored", path, exc_info=True)


def _prune(key: tuple[str, int]) -> None:
    """Delete the files of older versions, and copies of this one saved under another name (two
    builders of the same version at once: the storage renames the second)."""
    assessment_id, version = key
    directory = f"{STORAGE_DIRECTORY}/{assessment_id}"
    exact = f"{version}.json.gz"
    _, names = default_storage.listdir(directory)
    for name in names:
        match = _STORED_NAME.match(name)
        if match and (int(match.group(1)) < version or (int(match.group(1)) == version and name != exact)):
            default_storage.delete(f"{directory}/{name}")

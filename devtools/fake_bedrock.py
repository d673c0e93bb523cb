"""A fake Bedrock on 127.0.0.1 speaking the real wire format, for the aioboto3 path.

bedrock-runtime `Converse` (POST /model/{modelId}/converse) and bedrock-agent-runtime
`Retrieve` (POST /knowledgebases/{kbId}/retrieve), restJson as in botocore's
service-2.json: errors carry their type in the `x-amzn-ErrorType` header and a
JSON `{"message": ...}` body, which is how botocore names the exception (and its
retry handler recognises ThrottlingException).

An HTTP/1.1 keep-alive server (threaded, every response with Content-Length), so
a pooled client reuses its connections; it counts the TCP connections it
accepted and the calls it answered, including refused ones.

Replies are deterministic functions of the request: by default the text is
`FAKE <digest>` where the digest covers the model id, system prompt, messages and
inference configuration, so equal requests get equal answers. A test may set
`responder(request) -> str` to play a model. Knobs, all counts rather than times
except `latency`:

    throttle_next = 2       # the next 2 Converse calls get 429 ThrottlingException
    throttle_always = True  # every Converse call does
    fail_next = 1           # the next Converse call gets 500 InternalServerException
    drop_next = 1           # the next Converse call's connection is closed with no response
    truncate = True         # replies stop with stopReason "max_tokens"
    stop_reason = "guardrail_intervened"  # any other stopReason (a refusal)
    latency = 0.05          # seconds each Converse call takes
    knowledge_base = [{"text", "document_id", "chunk"}]  # what Retrieve searches
"""

import hashlib
import json
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_CONVERSE = re.compile(r"^/model/(?P<model>[^/]+)/converse$")
_RETRIEVE = re.compile(r"^/knowledgebases/(?P<kb>[^/]+)/retrieve$")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class ConverseRequest:
    model_id: str
    body: dict

    @property
    def system(self) -> str:
        return "\n".join(block.get("text", "") for block in self.body.get("system", []))

    @property
    def last_user_text(self) -> str:
        users = [message for message in self.body.get("messages", []) if message.get("role") == "user"]
        return "\n".join(block.get("text", "") for block in users[-1]["content"]) if users else ""

    @property
    def digest(self) -> str:
        canonical = json.dumps(
            {"model": self.model_id, **{k: self.body.get(k) for k in ("system", "messages", "inferenceConfig")}},
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass
class FakeBedrock:
    latency: float = 0.0
    throttle_next: int = 0
    throttle_always: bool = False
    fail_next: int = 0
    drop_next: int = 0
    truncate: bool = False
    stop_reason: str = "end_turn"
    responder: object = None  # callable(ConverseRequest) -> str
    knowledge_base: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.connections = 0  # TCP connections accepted
        self.converse_calls = 0  # Converse requests received, refused ones included
        self.retrieve_calls = 0
        self.in_flight = 0
        self.max_in_flight = 0  # most Converse calls being answered at once
        self.requests: list[ConverseRequest] = []
        self.retrieve_requests: list[dict] = []
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bedrock", daemon=True
        )

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakeBedrock":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- Converse ---------------------------------------------------------------
    def converse(self, model_id: str, body: dict) -> tuple[int, dict, str | None]:
        request = ConverseRequest(model_id=model_id, body=body)
        with self._lock:
            self.converse_calls += 1
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            throttled = self.throttle_always or self.throttle_next > 0
            if self.throttle_next > 0:
                self.throttle_next -= 1
            failed = not throttled and self.fail_next > 0
            if failed:
                self.fail_next -= 1
            dropped = not throttled and not failed and self.drop_next > 0
            if dropped:
                self.drop_next -= 1
        try:
            if self.latency:
                time.sleep(self.latency)
            if throttled:
                return 429, {"message": "Too many requests, please wait before trying again."}, "ThrottlingException"
            if dropped:
                return 0, {}, None  # the handler closes the connection without answering
            if failed:
                return 500, {"message": "The server encountered an internal error."}, "InternalServerException"
            return 200, self._reply(request), None
        finally:
            with self._lock:
                self.in_flight -= 1

    def _reply(self, request: ConverseRequest) -> dict:
        text = self.responder(request) if self.responder else f"FAKE {request.digest}"
        max_tokens = request.body.get("inferenceConfig", {}).get("maxTokens")
        texts = [block.get("text", "") for message in request.body.get("messages", []) for block in message["content"]]
        input_tokens = _tokens(request.system) + sum(_tokens(text) for text in texts)
        output_tokens = _tokens(text)
        stop_reason = self.stop_reason
        if self.truncate:
            stop_reason, text = "max_tokens", text[: max(1, len(text) // 2)]
            output_tokens = max_tokens or output_tokens
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop_reason,
            "usage": {
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": input_tokens + output_tokens,
            },
            "metrics": {"latencyMs": int(self.latency * 1000)},
        }

    # --- Retrieve (a tiny knowledge base: word overlap, scores in 0..1) -----------
    def retrieve(self, knowledge_base_id: str, body: dict) -> tuple[int, dict, str | None]:
        with self._lock:
            self.retrieve_calls += 1
            self.retrieve_requests.append({"knowledge_base_id": knowledge_base_id, **body})
        query = set(_WORD.findall(body["retrievalQuery"]["text"].lower()))
        search = body.get("retrievalConfiguration", {}).get("vectorSearchConfiguration", {})
        allowed = search.get("filter", {}).get("in", {})
        limit = search.get("numberOfResults", 5)
        results = []
        for passage in self.knowledge_base:
            if allowed and passage["document_id"] not in allowed["value"]:
                continue
            words = set(_WORD.findall(passage["text"].lower()))
            score = len(query & words) / max(1, len(query))
            if score > 0:
                results.append(
                    {
                        "content": {"type": "TEXT", "text": passage["text"]},
                        "location": {"type": "S3", "s3Location": {"uri": f"s3://evidence/{passage['document_id']}"}},
                        "score": round(score, 4),
                        "metadata": {"document_id": passage["document_id"], "chunk": passage["chunk"]},
                    }
                )
        results.sort(key=lambda result: -result["score"])
        return 200, {"retrievalResults": results[:limit]}, None


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of connects would see SYNs dropped,
    # connect timeouts and retried connections that no real endpoint would cause.
    request_queue_size = 128


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # about four characters a token


def _handler_for(fake: FakeBedrock):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections

        def setup(self):
            super().setup()
            with fake._lock:
                fake.connections += 1

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if match := _CONVERSE.match(path):
                status, payload, error_type = fake.converse(match["model"], body)
            elif match := _RETRIEVE.match(path):
                status, payload, error_type = fake.retrieve(match["kb"], body)
            else:
                status, payload, error_type = 404, {"message": f"no route {path}"}, "UnknownOperationException"
            if status == 0:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", hashlib.md5(data).hexdigest())
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # keep test output clean
            pass

    return Handler

"""The JSON API: one NinjaAPI; each app mounts its Router here.

Every endpoint but health and sign-in needs a session or an API token
(tra/http/auth.py). Errors are mapped once, here, to one shape:
{"error": {"code", "message", "details"}}. A DynamoDB failure that survived
botocore's retries is a 503 with Retry-After, never a 500; so is Django's own
database (users, tokens) when it is unreachable or its pool is exhausted.
"""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field
from pynamodb.exceptions import DoesNotExist, PynamoDBException

from assessments.api import documents_usage_router
from assessments.api import router as assessments_router
from chat.api import router as chat_router
from documents.api import router as documents_router
from llm.api import router as llm_router
from tra.auth_api import router as auth_router
from tra.dynamo.idempotency import CONDITION_FAILED, response_code
from tra.errors import ApplicationError, PayloadTooLarge, RetryLater
from tra.http.auth import SessionOrToken
from tra.http.parsers import JsonObjectParser
from tra.observability import health as health_checks
from tra.observability.metrics import has_metrics_token

logger = logging.getLogger(__name__)


def _docs_switch(view):
    """/api/docs and /api/openapi.json answer only while API_DOCS_ENABLED (off in production)."""

    def switched(request: HttpRequest, *args, **kwargs):
        if not settings.API_DOCS_ENABLED:
            raise Http404("the API docs are turned off (API_DOCS_ENABLED)")
        return view(request, *args, **kwargs)

    return switched


api = NinjaAPI(
    title="TRA",
    version="1.0",
    description="Technology-risk assessments: assessments, questions, evidence documents, reviews.",
    urls_namespace="api",
    auth=SessionOrToken(),
    parser=JsonObjectParser(),
    docs_decorator=_docs_switch,
)


class CheckOut(Schema):
    status: str
    reason: str | None = None
    table: str | None = None
    indexes: dict[str, str] | None = None
    backend: str | None = None
    vendor: str | None = None


class HealthOut(Schema):
    status: str
    checks: dict[str, CheckOut] | None = Field(None, description="for staff or the METRICS_TOKEN bearer only")


def error_response(request: HttpRequest, status: int, code: str, message: str, details: dict | None = None):
    return api.create_response(
        request, {"error": {"code": code, "message": message, "details": details or {}}}, status=status
    )


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, error: ApplicationError):
    response = error_response(request, error.status_code, error.code, error.message, error.extra)
    if isinstance(error, RetryLater):
        response["Retry-After"] = str(error.retry_after)
    return response


def _field(location: tuple | list) -> str:
    # ("body", "payload", "title") -> "title"; ("query", "limit") -> "limit"
    parts = [
        str(part) for part in location if part not in ("body", "query", "path", "form", "file", "payload", "params")
    ]
    return ".".join(parts) or ".".join(str(part) for part in location)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, error: NinjaValidationError):
    errors = [{"field": _field(item.get("loc", ())), "message": item.get("msg", "invalid")} for item in error.errors]
    message = "; ".join(f"{item['field']}: {item['message']}" for item in errors) or "invalid request"
    return error_response(request, 422, "validation_failed", message, {"errors": errors})


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError):
    message = str(error) if str(error) not in ("", "Unauthorized") else "sign in or send an API token"
    return error_response(request, 401, "unauthorized", message)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError):
    if isinstance(error.__cause__, ApplicationError):  # ninja wraps body-parser errors (tra/http/parsers.py) in a 400
        return application_error(request, error.__cause__)
    return error_response(request, error.status_code, "http_error", error.message)


@api.exception_handler(RequestDataTooBig)
def request_too_big(request: HttpRequest, error: RequestDataTooBig):
    # Django refuses a non-file body over DATA_UPLOAD_MAX_MEMORY_SIZE when it is first read.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return application_error(request, PayloadTooLarge(f"the request body is over the {limit:,}-byte limit"))


@api.exception_handler(MultiPartParserError)
def malformed_multipart(request: HttpRequest, error: MultiPartParserError):
    # Django raises it when it first reads request.FILES/POST: no boundary, a broken part, ...
    return error_response(request, 400, "invalid_multipart", f"the multipart body is malformed: {error}")


@api.exception_handler(PynamoDBException)
def dynamodb_error(request: HttpRequest, error: PynamoDBException):
    if isinstance(error, DoesNotExist):  # selectors turn these into NotFound; this is a bug's safety net
        return error_response(request, 404, "not_found", "not found")
    reasons = [reason and reason.code for reason in getattr(error, "cancellation_reasons", None) or []]
    if response_code(error) == CONDITION_FAILED or "ConditionalCheckFailed" in reasons:
        # A condition a service did not turn into a precise answer (tra.dynamo.writes.ConditionFailed is
        # a Conflict already): a concurrent change got there first, never a 500 or a 503.
        logger.info("unhandled condition failure: %s", error)
        return error_response(request, 409, "conflict", "a concurrent change got there first; reload and retry")
    logger.warning("DynamoDB unavailable: %s", error, exc_info=error)
    return _unavailable(request, "DynamoDB")


@api.exception_handler(BotoCoreError)
def aws_transport_error(request: HttpRequest, error: BotoCoreError):
    logger.warning("AWS unavailable: %s", error, exc_info=error)
    return _unavailable(request, "AWS")


@api.exception_handler(ClientError)
def aws_client_error(request: HttpRequest, error: ClientError):
    logger.warning("AWS error: %s", error, exc_info=error)
    return _unavailable(request, "AWS")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_error(request: HttpRequest, error: OperationalError | InterfaceError):
    logger.warning("database unavailable: %s", error, exc_info=error)
    return _unavailable(request, "the user database")


def _unavailable(request: HttpRequest, what: str):
    response = error_response(request, 503, "service_unavailable", f"{what} is unavailable; retry shortly")
    response["Retry-After"] = "2"
    return response


@api.get("/health", response={200: HealthOut, 503: HealthOut}, auth=None, tags=["health"], exclude_none=True)
async def health(request: HttpRequest):
    """Readiness: DynamoDB table and every GSI ACTIVE, cache and database answering. Anonymous callers
    get the status alone; staff (session) and the METRICS_TOKEN bearer also get each check."""
    result = await health_checks.health()
    if not await _sees_health_details(request):
        result = {"status": result["status"]}
    return Status(200 if result["status"] == health_checks.OK else 503, result)


async def _sees_health_details(request: HttpRequest) -> bool:
    if has_metrics_token(request):
        return True
    user = await request.auser()
    return user.is_authenticated and user.is_active and user.is_staff


api.add_router("/llm", llm_router)
api.add_router("/auth", auth_router)
api.add_router("/assessments", assessments_router)
api.add_router("/documents", documents_router)
api.add_router("/documents", documents_usage_router)  # GET /documents/{id}/assessments
api.add_router("/chat", chat_router)

"""The JSON API: one NinjaAPI; each app mounts its Router here.

Errors are mapped once, by exception handlers on this object, to one shape:
{"error": {"code", "message", "details"}}.
"""

from django.http import HttpRequest
from ninja import NinjaAPI, Schema, Status

from tra import health as health_checks
from tra.errors import ApplicationError, ServiceUnavailable

api = NinjaAPI(title="TRA", version="1.0", description="Technology-risk assessments API", urls_namespace="api")


class ErrorBody(Schema):
    code: str
    message: str
    details: dict = {}


class Error(Schema):
    error: ErrorBody


class CheckOut(Schema):
    status: str
    reason: str | None = None
    table: str | None = None
    indexes: dict[str, str] | None = None
    backend: str | None = None
    vendor: str | None = None


class HealthOut(Schema):
    status: str
    checks: dict[str, CheckOut]


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, error: ApplicationError):
    body = {"error": {"code": error.code, "message": error.message, "details": error.extra}}
    response = api.create_response(request, body, status=error.status_code)
    if isinstance(error, ServiceUnavailable):
        response["Retry-After"] = str(error.retry_after)
    return response


@api.get("/health", response={200: HealthOut, 503: HealthOut}, auth=None, tags=["health"], exclude_none=True)
async def health(request: HttpRequest):
    """Readiness: DynamoDB table and every GSI ACTIVE, cache and database answering."""
    result = await health_checks.health()
    return Status(200 if result["status"] == health_checks.OK else 503, result)

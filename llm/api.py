"""The LLM's API: staff-only statistics. Mounted on tra.api's NinjaAPI at /llm."""

from django.http import HttpRequest
from ninja import Router

from tra.errors import Forbidden
from tra.http.schemas import Error

from . import metrics

router = Router(tags=["llm"])


# The operation id it had when tra/api.py defined it: generated clients keep their method name.
@router.get("/stats", response={200: dict, 401: Error, 403: Error}, operation_id="tra_api_llm_stats")
async def llm_stats(request: HttpRequest):
    """Staff: LLM cache and cost counters, summed over every worker (`shared: true`); while the shared
    cache is down, this worker's own figures (`shared: false`)."""
    if not request.auth.is_staff:
        raise Forbidden("LLM statistics are for staff")
    return await metrics.astats()

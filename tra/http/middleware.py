"""Django's middleware, run on the event loop: the same classes, the same behaviour, no thread per step.

Under ASGI, Django runs each step of a `MiddlewareMixin` middleware (`process_request`,
`process_view`, `process_response`) through `sync_to_async`: a hop to the request's
thread and back, 13 per request with the stack in settings.MIDDLEWARE, whether or not
the step does anything. Almost all of these steps only read headers and cookies and set
headers; a few may touch the database (a session that must be saved, messages that must
be stored in it, a CSRF secret kept in the session, a form body read for its token).

Each class here subclasses Django's own and changes only where a step runs: on the loop
when it cannot block, in the request's thread (as Django does) when it may. The code
that decides what a response carries is Django's, called unchanged. A step that touched
the database on the loop would raise SynchronousOnlyOperation rather than block quietly.
Under WSGI or Django's sync test client these classes are Django's, unchanged.

Django's deploy checks look for its middleware by dotted path, so tra.http.checks runs
those checks for these classes (and settings.SILENCED_SYSTEM_CHECKS names the three
"middleware missing" warnings that tra.http.checks replaces).
"""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.middleware import clickjacking, common, csrf, security

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # what CsrfViewMiddleware accepts unread


async def _in_request_thread(step, *args):
    """Where Django runs every step: the request's thread, shared with its other sync code."""
    return await sync_to_async(step, thread_sensitive=True)(*args)


class OnTheLoop:
    """Mixed in before Django's class: its steps run on the loop unless `*_needs_thread` says otherwise.

    Replaces MiddlewareMixin.__acall__ (async mode only) and nothing else."""

    def request_needs_thread(self, request) -> bool:
        return False

    def response_needs_thread(self, request, response) -> bool:
        return False

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            if self.request_needs_thread(request):
                response = await _in_request_thread(self.process_request, request)
            else:
                response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_needs_thread(request, response):
                response = await _in_request_thread(self.process_response, request, response)
            else:
                response = self.process_response(request, response)
        return response


class SecurityMiddleware(OnTheLoop, security.SecurityMiddleware):
    """HTTPS redirect and security headers: settings and headers only."""


class SessionMiddleware(OnTheLoop, sessions.SessionMiddleware):
    """Creating the lazy session store reads nothing; only saving a session writes to its store."""

    def response_needs_thread(self, request, response) -> bool:
        session = getattr(request, "session", None)
        if session is None:
            return False
        return bool(getattr(session, "modified", True) or settings.SESSION_SAVE_EVERY_REQUEST)


class CommonMiddleware(OnTheLoop, common.CommonMiddleware):
    """Disallowed user agents, PREPEND_WWW, APPEND_SLASH (a URL resolve) and Content-Length."""


class CsrfViewMiddleware(OnTheLoop, csrf.CsrfViewMiddleware):
    """The CSRF cookie is read and set on the loop; a token check that reads the request's form
    (an unsafe method on a view that is not exempt) runs in the request's thread, as does all of
    it when CSRF_USE_SESSIONS keeps the secret in the session (a database read)."""

    def __init__(self, get_response):
        super().__init__(get_response)
        if self.async_mode:
            # Django's handler adapts process_view by its type: a coroutine function is awaited as is.
            self.process_view = self._process_view_async

    def request_needs_thread(self, request) -> bool:
        return settings.CSRF_USE_SESSIONS

    def response_needs_thread(self, request, response) -> bool:
        return settings.CSRF_USE_SESSIONS

    async def _process_view_async(self, request, callback, callback_args, callback_kwargs):
        decided_without_reading = not settings.CSRF_USE_SESSIONS and (
            getattr(request, "csrf_processing_done", False)
            or getattr(callback, "csrf_exempt", False)
            or request.method in SAFE_METHODS
        )
        step = csrf.CsrfViewMiddleware.process_view.__get__(self)
        if decided_without_reading:
            return step(request, callback, callback_args, callback_kwargs)
        return await _in_request_thread(step, request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(OnTheLoop, auth.AuthenticationMiddleware):
    """Sets the lazy `request.user` and `request.auser`: the user is read only when asked for."""


class MessageMiddleware(OnTheLoop, messages.MessageMiddleware):
    """Creating the storage reads nothing; storing messages that were read or added may read and
    write the session."""

    def response_needs_thread(self, request, response) -> bool:
        storage = getattr(request, "_messages", None)
        if storage is None:
            return False
        return bool(getattr(storage, "used", True) or getattr(storage, "added_new", True))


class XFrameOptionsMiddleware(OnTheLoop, clickjacking.XFrameOptionsMiddleware):
    """Sets X-Frame-Options from settings."""

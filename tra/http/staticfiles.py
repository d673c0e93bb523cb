"""Static files (the admin's CSS and icons, the OpenAPI UI's assets) served by the app
itself through WhiteNoise, under uvicorn locally and behind the load balancer in
production: no separate web server.

WhiteNoise's own middleware is synchronous, and one synchronous middleware in
Django's async stack sends every request through a thread. This one is async:
only a request under STATIC_URL reaches WhiteNoise (in a worker thread), every
other request goes straight on. Locally (DEBUG) the files come from the apps
through the staticfiles finders; in production from STATIC_ROOT, which
`manage.py collectstatic` fills (hashed, compressed names: production.py).
"""

import os

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.http import HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        super().__init__(get_response)
        markcoroutinefunction(self)

    def add_files(self, root, prefix=None):
        # Without collectstatic the finders serve the apps' files; no warning about STATIC_ROOT then.
        if self.use_finders and not os.path.isdir(root):
            return
        super().add_files(root, prefix)

    async def __call__(self, request):
        if request.path_info.startswith(self.static_prefix):
            response = await sync_to_async(self._serve, thread_sensitive=False)(request)
            if response is not None:
                return response
        return await self.get_response(request)

    def _serve(self, request) -> HttpResponse | None:
        found = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if found is None:
            return None
        streamed = self.serve(found, request)
        try:
            # Buffered here: Django's ASGI handler would read a file iterator synchronously, with a warning.
            response = HttpResponse(b"".join(streamed.streaming_content), status=streamed.status_code)
        finally:
            streamed.close()
        for header, value in streamed.items():
            response[header] = value
        return response

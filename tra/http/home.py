"""`/`: where to go from here (the API's interactive docs, the admin, health)."""

from django.http import HttpResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TRA</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}</style></head>
<body><h1>TRA &mdash; technology-risk assessments</h1>
<ul>
<li><a href="/api/docs">/api/docs</a> &mdash; the API, interactive (OpenAPI UI);
 <a href="/api/openapi.json">its schema</a></li>
<li><a href="/admin/">/admin/</a> &mdash; the admin: reviews, dashboards</li>
<li><a href="/api/health">/api/health</a> &mdash; health</li>
</ul>
<p>No user yet? <code>.venv/bin/python manage.py createsuperuser</code></p>
</body></html>
"""


async def home(request) -> HttpResponse:
    return HttpResponse(_PAGE)

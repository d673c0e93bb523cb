"""An async JSON client for the API, authenticated with a real API token."""

import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient

from tra.http.auth import token_create


@dataclass
class Response:
    status: int
    body: object
    headers: dict

    @property
    def error(self) -> dict:
        return self.body["error"]


class ApiClient:
    def __init__(self, token: str | None, user=None):
        self.user = user
        self.user_id = str(user.pk) if user else None
        self._client = AsyncClient()
        # Per request: AsyncClient(headers=...) mangles default headers into "Http-Authorization".
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def request(self, method: str, path: str, payload=None, **kwargs) -> Response:
        call = getattr(self._client, method)
        if payload is not None:
            kwargs.update(data=json.dumps(payload), content_type="application/json")
        response = await call(f"/api{path}", headers=self._headers, **kwargs)
        body = json.loads(response.content) if response.content else None
        return Response(response.status_code, body, dict(response.headers))

    async def get(self, path: str, **params) -> Response:
        return await self.request("get", path, data=params or None)

    async def post(self, path: str, payload=None, **kwargs) -> Response:
        return await self.request("post", path, payload, **kwargs)

    async def patch(self, path: str, payload) -> Response:
        return await self.request("patch", path, payload)

    async def put(self, path: str, payload) -> Response:
        return await self.request("put", path, payload)

    async def delete(self, path: str, payload=None) -> Response:
        return await self.request("delete", path, payload)

    async def all_items(self, path: str, page_size: int = 100) -> list:
        """Every item of a cursor-paged list, page by page (each page must be a 200)."""
        items, cursor = [], None
        while True:
            params = {"limit": page_size} | ({"cursor": cursor} if cursor else {})
            response = await self.get(path, **params)
            assert response.status == 200, response.body
            items += response.body["items"]
            cursor = response.body["next_cursor"]
            if not cursor:
                return items


def make_user(username: str, *, reviewer: bool = False, staff: bool = False):
    user = get_user_model().objects.create_user(username=username, password=f"{username}-password-123")
    if reviewer or staff:
        user.is_staff = True
        user.save()
    if reviewer:
        user.user_permissions.add(Permission.objects.get(codename="review_assessments"))
    return user


def client_for(user) -> ApiClient:
    _, token = token_create(user=user, name="tests")
    return ApiClient(token, user=user)


async def upload_document(
    client: ApiClient, content: bytes, name: str = "policy.txt", content_type: str = "text/plain"
):
    """POST /documents with one file, as a browser's multipart form sends it."""
    return await client.request(
        "post", "/documents", data={"file": SimpleUploadedFile(name, content, content_type=content_type)}
    )

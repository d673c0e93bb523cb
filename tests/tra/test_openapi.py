"""The OpenAPI document is complete: every operation declares its success and error responses."""

import pytest
from django.test import Client

PUBLIC = {("get", "/api/health"), ("get", "/api/auth/csrf"), ("post", "/api/auth/login")}


@pytest.fixture(scope="module")
def schema():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_every_operation_declares_a_success_and_its_errors(schema):
    for method, path, operation in operations(schema):
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), (method, path)
        if (method, path) not in PUBLIC:
            assert "401" in codes, (method, path)
            assert operation.get("security"), (method, path)
        if operation.get("requestBody") or operation.get("parameters"):
            assert "422" in codes or (method, path) in PUBLIC, (method, path)


def test_the_error_responses_use_the_one_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorBody")
    for method, path, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith("4") and "content" in response:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Error"), (method, path, code)


def test_the_docs_page_is_served_without_a_cdn():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert b"cdn." not in response.content

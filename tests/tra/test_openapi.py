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


@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json"])
def test_api_docs_enabled_off_turns_the_docs_and_the_schema_off(settings, path):
    settings.API_DOCS_ENABLED = False
    assert Client().get(path).status_code == 404
    settings.API_DOCS_ENABLED = True
    assert Client().get(path).status_code == 200


def test_metrics_need_the_token_when_set_and_are_closed_without_one_when_required(settings):
    settings.METRICS_TOKEN, settings.METRICS_REQUIRE_TOKEN = "", False
    assert Client().get("/metrics").status_code == 200  # local development: open
    settings.METRICS_REQUIRE_TOKEN = True  # production: closed until a token is set
    assert Client().get("/metrics").status_code == 403
    settings.METRICS_TOKEN = "scraper-token"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer scraper-token"}).status_code == 200


def test_reads_list_only_the_errors_they_can_answer_and_every_operation_is_described(schema):
    for method, path, operation in operations(schema):
        assert operation.get("description", "").strip(), (method, path)
        if method in ("get", "delete"):  # no request body: never 413 or 415
            assert not {"413", "415"} & set(operation["responses"]), (method, path)
        if method == "get":  # changes nothing: never 409
            assert "409" not in operation["responses"], (method, path)


def test_every_id_in_the_auth_responses_is_a_string(schema):
    components = schema["components"]["schemas"]
    for name in ("MeOut", "TokenOut", "NewTokenOut"):
        assert components[name]["properties"]["id"]["type"] == "string", name

"""Settings come from the environment; production settings pass `check --deploy`."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import AsyncClient, override_settings

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "tra.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-from-the-environment-0123456789",
    "DJANGO_ALLOWED_HOSTS": "tra.example.com",
    "METRICS_TOKEN": "scraper-token-from-the-environment",
}


def load_settings(monkeypatch, module: str = "tra.settings.base", **environment) -> dict:
    for name in ("REDIS_URL", "DATABASE_URL", "DYNAMODB_ENDPOINT_URL", "AWS_STORAGE_BUCKET_NAME", "DJANGO_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # Evaluate the settings modules afresh under this environment; monkeypatch puts
    # the running ones back afterwards.
    for name in ("tra.settings.base", "tra.settings.production"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return vars(importlib.import_module(module))


def test_embedded_defaults_need_no_service(monkeypatch):
    loaded = load_settings(monkeypatch)
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["CACHES"]["llm"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert loaded["DYNAMODB_ENDPOINT_URL"] is None  # empty means AWS; `make run` sets a local one
    assert loaded["LLM_PROVIDER"] == "extractive"


def test_production_services_are_switched_on_by_environment_variables(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        REDIS_URL="redis://cache.internal:6379/0",
        DATABASE_URL="postgres://tra:secret@db.internal:5432/tra",
        AWS_STORAGE_BUCKET_NAME="tra-evidence",
        LLM_PROVIDER="bedrock",
        AWS_MAX_POOL_CONNECTIONS="200",
        DATABASE_POOL_MAX_SIZE="20",
    )
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    # A pool, not per-thread persistent connections (which pile up under ASGI).
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 20, "timeout": 10.0}
    assert (
        loaded["CACHES"]["default"]["BACKEND"]
        == loaded["CACHES"]["llm"]["BACKEND"]
        == ("django_redis.cache.RedisCache")
    )
    assert loaded["CACHES"]["default"]["KEY_PREFIX"] != loaded["CACHES"]["llm"]["KEY_PREFIX"]
    assert loaded["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert loaded["LLM_PROVIDER"] == "bedrock"
    assert loaded["AWS_MAX_POOL_CONNECTIONS"] == 200


def test_a_malformed_number_names_the_variable(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="AWS_MAX_POOL_CONNECTIONS must be an integer"):
        load_settings(monkeypatch, AWS_MAX_POOL_CONNECTIONS="lots")


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be set"):
        load_settings(monkeypatch, module="tra.settings.production", DJANGO_ALLOWED_HOSTS="tra.example.com")


def check_deploy(**environment) -> subprocess.CompletedProcess:
    env = {**os.environ, **environment}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = check_deploy(**PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_metrics_token_warns_and_closes_metrics(monkeypatch):
    result = check_deploy(**{**PRODUCTION_ENV, "METRICS_TOKEN": ""})
    assert result.returncode != 0
    assert "tra.W001" in result.stdout + result.stderr and "METRICS_TOKEN" in result.stdout + result.stderr
    production = load_settings(monkeypatch, module="tra.settings.production", **{**PRODUCTION_ENV, "METRICS_TOKEN": ""})
    assert (production["METRICS_REQUIRE_TOKEN"], production["API_DOCS_ENABLED"]) == (True, False)
    base = load_settings(monkeypatch)
    assert (base["METRICS_REQUIRE_TOKEN"], base["API_DOCS_ENABLED"]) == (False, True)


def load_local_settings(monkeypatch, local_dir) -> dict:
    monkeypatch.delitem(sys.modules, "tra.settings.local", raising=False)
    return load_settings(monkeypatch, module="tra.settings.local", TRA_LOCAL_DIR=str(local_dir))


def test_local_settings_find_the_running_local_dynamodb_and_never_aws(monkeypatch, tmp_path):
    # Nothing recorded: `make run`'s fixed port on this machine, where nothing answers - never AWS.
    assert load_local_settings(monkeypatch, tmp_path)["DYNAMODB_ENDPOINT_URL"] == "http://127.0.0.1:8001"
    # `make run` recorded its server (and is alive): every command uses it, no variable set.
    record = tmp_path / "dynamodb.json"
    record.write_text(json.dumps({"endpoint_url": "http://127.0.0.1:40123", "pid": os.getpid()}))
    assert load_local_settings(monkeypatch, tmp_path)["DYNAMODB_ENDPOINT_URL"] == "http://127.0.0.1:40123"
    # A record left by a `make run` that died is ignored.
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record.write_text(json.dumps({"endpoint_url": "http://127.0.0.1:40123", "pid": int(finished.stdout)}))
    assert load_local_settings(monkeypatch, tmp_path)["DYNAMODB_ENDPOINT_URL"] == "http://127.0.0.1:8001"


MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_serves_the_collected_static_files(tmp_path):
    env = {**os.environ, **PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path)}
    command = [sys.executable, "manage.py", "collectstatic", "--noinput"]
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed = paths["admin/css/base.css"]
    assert hashed != "admin/css/base.css" and (tmp_path / f"{hashed}.gz").exists()
    assert "ninja/swagger-ui-bundle.js" in paths
    production = subprocess.run(
        [sys.executable, "-c", "from tra.settings import production; print(production.STORAGES['staticfiles'])"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert MANIFEST_STORAGE in production.stdout

    storages = {**django_settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    with override_settings(
        STATIC_ROOT=tmp_path, STORAGES=storages, WHITENOISE_USE_FINDERS=False, WHITENOISE_AUTOREFRESH=False
    ):
        response = async_to_sync(AsyncClient().get)(f"/static/{hashed}")
        missing = async_to_sync(AsyncClient().get)("/static/admin/css/nothing-here.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert "immutable" in response["Cache-Control"]
    assert b"--header-bg" in response.content
    assert missing.status_code == 404

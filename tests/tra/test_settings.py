"""Settings come from the environment; production settings pass `check --deploy`."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "tra.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-from-the-environment-0123456789",
    "DJANGO_ALLOWED_HOSTS": "tra.example.com",
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


def test_production_settings_pass_check_deploy():
    env = {**os.environ, **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

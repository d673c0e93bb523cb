"""devtools is installed by the local and test settings only: production has none of its commands."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
DEVTOOLS_COMMANDS = {"benchmark", "dynamo_local", "runlocal", "seed_demo"}
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "tra.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-from-the-environment-0123456789",
    "DJANGO_ALLOWED_HOSTS": "tra.example.com",
}


def commands_under(environment: dict) -> set[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"],
        cwd=PROJECT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return set(result.stdout.split())


def test_local_settings_offer_the_development_commands():
    commands = commands_under({"DJANGO_SETTINGS_MODULE": "tra.settings.local"})
    assert DEVTOOLS_COMMANDS.issubset(commands)


def test_production_settings_offer_none_of_the_development_commands():
    assert DEVTOOLS_COMMANDS.isdisjoint(commands_under(PRODUCTION_ENV))

"""The base of operators' batch commands: help that shows defaults, quiet end of a closed pipe,
usage figures flushed at exit."""

import contextlib
import os
import socket
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from tra.observability import usage
from tra.progress import raw_stream


class DefaultsHelpFormatter(DjangoHelpFormatter):
    """`--help` lists each option's default, as argparse's ArgumentDefaultsHelpFormatter does,
    but only where there is one worth reading (not None, not a flag's False) and the help
    text does not already say it."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if default in (None, False, "==SUPPRESS==") or "default" in text or not action.option_strings:
            return text
        if action.dest in {"verbosity"}:
            return text
        return f"{text} (default: %(default)s)" if text else "default: %(default)s"


def require_local_dynamodb() -> None:
    """Local settings (`LOCAL_DYNAMODB_REQUIRED`): stop at once, naming the fix, when no DynamoDB
    server answers at the local endpoint, instead of retrying a closed port for seconds."""
    if not getattr(settings, "LOCAL_DYNAMODB_REQUIRED", False):
        return
    endpoint = urlsplit(settings.DYNAMODB_ENDPOINT_URL)
    try:
        with socket.create_connection((endpoint.hostname, endpoint.port or 80), timeout=1.0):
            return
    except OSError:
        raise CommandError(
            f"no local DynamoDB server answers at {settings.DYNAMODB_ENDPOINT_URL}: start `make run` in another "
            f"terminal first (it records its server in {settings.LOCAL_DYNAMODB_ENDPOINT_FILE}), "
            "or set DYNAMODB_ENDPOINT_URL"
        ) from None


class OperatorCommand(BaseCommand):
    """Base of the batch commands: `--help` with defaults, a quiet stop when the reader of stdout
    goes away, and `note()` for stderr lines that are not errors."""

    def note(self, message: str) -> None:
        """A summary on stderr (stdout carries data), plain: Django styles stderr as an error."""
        self.stderr.write(message, style_func=str)

    def run_from_argv(self, argv):
        """From the command line (not call_command): flush this process's usage figures at exit,
        so a batch job's DynamoDB calls reach the dashboard like a worker's."""
        usage.baseline()
        try:
            return super().run_from_argv(argv)
        finally:
            usage.flush_quietly()

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    uses_dynamodb = True  # checked before anything runs (require_local_dynamodb)

    def execute(self, *args, **options):
        if self.uses_dynamodb:
            require_local_dynamodb()
        try:
            return super().execute(*args, **options)
        except BrokenPipeError:
            # The reader went away (`... | head`): stop quietly, as Unix tools do. Point stdout
            # at /dev/null so the interpreter's flush at exit does not raise again (Python docs,
            # signal module, "Note on SIGPIPE").
            if raw_stream(self.stdout) is sys.stdout:
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return None

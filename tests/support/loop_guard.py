"""Detect blocking calls made on an event loop's thread, by count rather than by time.

While active, the guarded functions record every call made from a thread that is
running an asyncio loop: a sync botocore HTTP send (PynamoDB, boto3), a blocking
socket connect (sync redis, urllib3), a database query, time.sleep. An async view
that does any of these blocks every other request on its worker.
"""

import asyncio
import contextlib
import socket
import time
import traceback
from unittest import mock

import botocore.httpsession
from django.db.backends import utils as db_utils

_TARGETS = [
    (botocore.httpsession.URLLib3Session, "send", "botocore HTTP send"),
    (socket, "create_connection", "socket.create_connection"),
    (time, "sleep", "time.sleep"),
    (db_utils.CursorWrapper, "execute", "database query"),
]


@contextlib.contextmanager
def blocking_calls_on_event_loop():
    offences: list[str] = []
    patches = []
    for owner, name, label in _TARGETS:
        original = getattr(owner, name)

        def guarded(*args, __original=original, __label=label, **kwargs):
            if asyncio._get_running_loop() is not None:
                frame = traceback.extract_stack(limit=6)[0]
                offences.append(f"{__label} at {frame.filename}:{frame.lineno}")
            return __original(*args, **kwargs)

        patches.append(mock.patch.object(owner, name, guarded))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield offences

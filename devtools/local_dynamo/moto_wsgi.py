"""moto's DynamoDB as a WSGI application, for gunicorn (see server.py).

moto's own server (werkzeug's development server) answers every request with
`Connection: close`, so a pooled client would look no better there than a client
per call. Served by gunicorn's threaded worker it keeps connections open, the way
AWS endpoints do. One worker only: moto keeps its state in the process.

Requests are served one at a time (connections still stay open): moto's backend is
not thread-safe. Its TransactWriteItems deep-copies the table first and, when a
condition fails, puts that copy back, undoing whatever other threads committed
meanwhile: concurrent versioned updates lost accepted writes
(tests/reliability/test_concurrency.py).
"""

import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

_moto = DomainDispatcherApplication(create_backend_app)
_one_at_a_time = threading.Lock()


def application(environ, start_response):
    with _one_at_a_time:
        return list(_moto(environ, start_response))

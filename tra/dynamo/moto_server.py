"""moto's DynamoDB as a WSGI application, for gunicorn (see local_server.py).

moto's own server (werkzeug's development server) answers every request with
`Connection: close`, so a pooled client would look no better there than a client
per call. Served by gunicorn's threaded worker it keeps connections open, the way
AWS endpoints do. One worker only: moto keeps its state in the process.
"""

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

application = DomainDispatcherApplication(create_backend_app)

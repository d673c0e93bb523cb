"""uvicorn for `make run` that loads the app first and listens only when told to.

    python -m devtools.local_dynamo.gated_uvicorn HOST PORT

Importing the app (Django's set-up, every module) takes a second or two; runlocal
starts this process together with DynamoDB Local so that work overlaps the JVM's
start. The port is bound only after runlocal writes `serve` on this process's
stdin, which it does once the DynamoDB server answers and the table and its
indexes are ACTIVE: no request is served before then. End of input (runlocal
gone) or anything else ends the process without serving.
"""

import sys

import uvicorn

GO = "serve"


def main(host: str, port: int) -> int:
    config = uvicorn.Config("tra.asgi:application", host=host, port=port, lifespan="on", access_log=False)
    config.load()  # imports tra.asgi: Django set up, the application built
    if sys.stdin.readline().strip() != GO:
        return 0
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 3  # uvicorn's own exit code when start-up fails


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))

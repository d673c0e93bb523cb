"""Development only; runtime code never imports it.

Installed only by the local and test settings (tra/settings/local.py, test.py), never
by production. It holds what developers and the tests run against:

    benchmark/      `manage.py benchmark`: the design against the naive one it replaces
    demo.py         `manage.py seed_demo`: realistic demo data, bulk-written
    local_dynamo/   local DynamoDB servers (moto, dynalite) for `make run`, the tests and benchmarks
    fake_bedrock.py a fake Bedrock on 127.0.0.1 speaking the real wire format
    tcp_proxy.py    a counting TCP proxy: how many connections does a client open?

Commands: `runlocal` (what `make run` runs), `dynamo_local`, `seed_demo`, `benchmark`.
Dependencies point one way: tests -> devtools -> the apps and the tra platform.
"""

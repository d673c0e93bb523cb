"""What TRA counts and shows, knowing no domain app.

registry.py   what apps lend it, registered in their AppConfig.ready()
models.py     UsageCounter: daily figures in DynamoDB
usage.py      flushes this worker's figures to UsageCounter, reads them back per day
metrics.py    GET /metrics in the Prometheus text format
dashboard.py  the admin's "Usage and cost" page
"""

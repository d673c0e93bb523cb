"""Shared DynamoDB plumbing: the one-table base model, schema, migrations, metering."""

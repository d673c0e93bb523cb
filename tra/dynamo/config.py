"""AWS client configuration from settings, shared by botocore (PynamoDB) and aiobotocore."""

from django.conf import settings

LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


def retry_config() -> dict:
    # botocore's standard/adaptive modes retry throttling and transient errors with
    # exponential backoff and jitter; total_max_attempts counts the first try.
    return {"mode": settings.AWS_RETRY_MODE, "total_max_attempts": settings.AWS_MAX_ATTEMPTS}


def client_config_kwargs() -> dict:
    """Keyword arguments for botocore.config.Config / aiobotocore.config.AioConfig."""
    return {
        "max_pool_connections": settings.AWS_MAX_POOL_CONNECTIONS,
        "connect_timeout": settings.AWS_CONNECT_TIMEOUT_SECONDS,
        "read_timeout": settings.AWS_READ_TIMEOUT_SECONDS,
        "retries": retry_config(),
        "tcp_keepalive": settings.AWS_TCP_KEEPALIVE,
    }


def credentials_for(endpoint_url: str | None) -> dict:
    """Dummy credentials for a local endpoint when none are configured, else botocore's chain."""
    if endpoint_url and not settings.AWS_ACCESS_KEY_ID:
        return dict(LOCAL_CREDENTIALS)
    return {}

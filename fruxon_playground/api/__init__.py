"""The Fruxon API client: models, typed stream events, errors and `FruxonClient`.

    from fruxon_playground.api import FruxonClient
    with FruxonClient(base_url, api_key, tenant) as client:
        with client.stream("support_agent", {"parameters": {"question": "Hi"}}) as events:
            for event in events:
                ...
"""

from fruxon_playground.api import events, models
from fruxon_playground.api._streaming import EventStream
from fruxon_playground.api.client import FruxonClient, Summaries, Timeouts
from fruxon_playground.api.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    FruxonAPIError,
    FruxonConnectionError,
    FruxonError,
    FruxonTimeoutError,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    StreamInterrupted,
    ValidationError,
)

__all__ = [
    "AuthenticationError", "ConflictError", "EventStream", "ForbiddenError", "FruxonAPIError", "FruxonClient",
    "FruxonConnectionError", "FruxonError", "FruxonTimeoutError", "MethodNotAllowedError", "NotFoundError",
    "RateLimitedError", "ServerError", "ServiceUnavailableError", "StreamInterrupted",
    "Summaries", "Timeouts", "ValidationError", "events", "models",
]

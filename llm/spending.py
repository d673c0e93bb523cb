"""Who pays for a model call: the request that leads it, and only that one.

    paid_by(charge)   context manager: model calls made inside it are charged to `charge`
    once(charge)      a charge that several paid_by blocks share (one request, several answers)
    async spend()     called right before a model call is made (llm.bedrock's single-flight
                      leader, the extractive provider's local computation)

`charge` is an async callable taking no argument (the service layer passes the caller's
rate-limit charge); it may raise to refuse the call (tra.errors.RateLimited, a 429). It runs
at most once per `paid_by` block however many calls the block makes (a map-reduce summary,
a bulk suggestion: one request, one charge). Cache hits and requests that wait on an
identical call in flight never reach `spend()`, so they are free; over the limit they still
get their answer. The payer travels in a context variable: a single-flight task, created by
its leader, carries the leader's payer and no one else's (llm/cache.py).
"""

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable

Charge = Callable[[], Awaitable[object]]

_payer: contextvars.ContextVar["_Once | None"] = contextvars.ContextVar("llm_payer", default=None)


class _Once:
    """Runs `charge` on the first call; later (or concurrent) calls share its outcome."""

    def __init__(self, charge: Charge):
        self._charge = charge
        self._task: asyncio.Task | None = None

    async def __call__(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._charge())
        await asyncio.shield(self._task)


def once(charge: Charge) -> Charge:
    """`charge`, run at most once however many blocks (concurrent or not) it is given to."""
    return charge if isinstance(charge, _Once) else _Once(charge)


@contextlib.contextmanager
def paid_by(charge: Charge | None):
    """Charge the model calls made inside the block to `charge` (None: to no one)."""
    token = _payer.set(once(charge) if charge is not None else None)
    try:
        yield
    finally:
        _payer.reset(token)


async def spend() -> None:
    """A model call is about to be made: charge the payer of this context, if any."""
    payer = _payer.get()
    if payer is not None:
        await payer()

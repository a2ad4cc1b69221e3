"""What awaits a user besides sign-offs (an instructor's grade sheets to enter …), for the home page.

The kernel knows no app: each app registers a provider ``f(user) -> list[TodoItem]`` once (in its
``AppConfig.ready``), and the home page lists every provider's items under "Awaiting you" with the
requests to sign."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TodoItem:
    title: str
    detail: str
    url: str
    due: dt.date | None = None
    overdue: bool = False


Provider = Callable[[object], list[TodoItem]]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def todo_items(user) -> list[TodoItem]:
    """Every provider's items for ``user``: overdue first, then by due date."""
    items = [item for provider in _PROVIDERS for item in provider(user)]
    return sorted(items, key=lambda i: (not i.overdue, i.due or dt.date.max))

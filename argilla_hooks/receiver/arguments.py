"""Checks of `create_app`'s arguments: ValueError, naming the argument, for a value that cannot work."""

from __future__ import annotations

from typing import Optional

from argilla_hooks.urls import check_url_shape

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_BODY_BUDGET = 64 * 1024 * 1024


def check_path(path: str) -> str:
    """A path deliveries can be POSTed to as written; ValueError for one with a query, a fragment or a space, which
    no request's path would ever equal."""
    if any(ch in path for ch in "?#") or any(ch.isspace() for ch in path):
        raise ValueError(f"{path!r} must be a plain URL path, e.g. /hooks (no query, fragment or space)")
    return path


def check_limits(max_body: int, body_budget: Optional[int], max_events: Optional[int], tolerance: int, dedup_capacity: int) -> int:
    """The body budget to use; ValueError for a limit that cannot work."""
    if max_body < 1:
        raise ValueError("max_body must be a positive number of bytes")
    if body_budget is None:
        body_budget = max(DEFAULT_BODY_BUDGET, max_body)
    elif body_budget < max_body:
        raise ValueError(f"body_budget must be at least max_body ({max_body} bytes), or no such body could be read")
    if max_events is not None and max_events < 1:
        raise ValueError("max_events must be a positive number")
    if tolerance < 1:
        raise ValueError("tolerance must be a positive number of seconds (with 0, every delivery would be refused)")
    if dedup_capacity < 1:
        raise ValueError("dedup_capacity must be a positive number of events")
    return body_budget


def check_forward_url(url: str) -> str:
    try:
        return check_url_shape(url)
    except ValueError as exc:
        raise ValueError(f"forward target: {exc}") from None

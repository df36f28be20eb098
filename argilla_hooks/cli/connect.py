"""The one place a command gets its Argilla client (tests and other front-ends replace it here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from argilla_hooks import settings

if TYPE_CHECKING:
    from argilla_hooks.client import ArgillaClient


def get_client(api_url: Optional[str], api_key: Optional[str], profile: Optional[str], **options: Any) -> "ArgillaClient":
    """A client for flag-or-environment values, completed from the profile; `options` go to ArgillaClient."""
    from argilla_hooks.client import ArgillaClient

    resolved = settings.resolve(api_url, api_key, profile)
    return ArgillaClient(resolved.api_url, resolved.api_key, **options)

"""Credentials: login (save a profile), logout, whoami."""

from __future__ import annotations

from typing import Annotated

from argilla_hooks import settings
from argilla_hooks.cli import output
from argilla_hooks.cli.connect import get_client
from argilla_hooks.cli.errors import CommandError, UsageProblem
from argilla_hooks.cli.options import ApiKey, ApiKeyFile, ApiUrl, Json, Profile, profile_option
from argilla_hooks.text import a_or_an


def login(
    profile: Annotated[str, profile_option("Name to save the credentials under.")] = settings.DEFAULT_PROFILE,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
) -> None:
    """Check an API key against Argilla and save it as a profile.

    Prompts for what is missing when run on a terminal (the key is not echoed).

    \b
    Examples:
      hooks login
      hooks login --profile prod --api-url https://argilla.example.com --api-key-file ~/.argilla-prod-key
    """
    from argilla_hooks.client import check_api_key, check_api_url
    from argilla_hooks.client.errors import ArgillaError, AuthenticationError

    if not profile.strip():  # other commands read an empty --profile as none given: such a profile could not be used
        raise UsageProblem("--profile needs a name, e.g. --profile prod; nothing was saved")
    # Read first: the file is rewritten at the end, so a broken one is reported before anything is asked or sent.
    saved = settings.profiles()
    settings.check_writable()  # and one that cannot be written, before a key is asked for
    interactive = output.stdin_is_terminal()
    if not api_url:
        existing = saved.get(profile, {}).get("api_url")
        api_url = output.prompt("Argilla API URL", default=existing or settings.DEFAULT_API_URL) if interactive else existing or settings.DEFAULT_API_URL
    api_url = check_api_url(api_url)  # before asking for a key that would then be thrown away
    if not api_key:
        if not interactive:
            raise UsageProblem(f"no API key: pass --api-key or set {settings.ENV_API_KEY} (stdin is not a terminal, so no prompt)")
        api_key = output.prompt("Argilla API key", hide_input=True)
    api_key = check_api_key(api_key)  # saved as used: no stray newline
    with get_client(api_url, api_key, None) as client:
        try:
            user = client.me()
        except AuthenticationError as exc:
            raise CommandError(f"the API key was rejected by {api_url}; nothing was saved") from exc
        except ArgillaError as exc:  # unreachable, not Argilla, ...
            raise CommandError(f"{exc}; nothing was saved") from exc
    if user.role != "owner":
        output.warn(f"{user.username} is {a_or_an(user.role)}: only owners can manage webhooks")
    path = settings.save_profile(profile, api_url, api_key)
    output.success(f"logged in to {api_url} as {user.username} ({user.role}); saved profile {profile!r} in {path}")


def logout(
    profile: Annotated[str, profile_option("Profile to forget.")] = settings.DEFAULT_PROFILE,
) -> None:
    """Forget a saved profile and its API key.

    \b
    Examples:
      hooks logout --profile prod
    """
    if settings.remove_profile(profile):
        output.success(f"removed profile {profile!r} from {settings.config_path()}")
    else:
        output.info(f"no profile {profile!r} in {settings.config_path()}; nothing to do")


def whoami(
    as_json: Json = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Show who the API key belongs to, and the server's URL and version.

    \b
    Examples:
      hooks whoami
      hooks whoami --profile prod --json
    """
    with get_client(api_url, api_key, profile) as client:
        user = client.me()
        version = client.server_version()
        url = client.api_url
    if as_json:
        output.print_json({"username": user.username, "role": user.role, "api_url": url, "server_version": version})
        return
    output.print_line(output.visible(f"{user.username} ({user.role}) on {url}, Argilla {version}"))  # server text
    if user.role != "owner":
        output.warn("only owners can manage webhooks")

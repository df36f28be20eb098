"""Where settings come from: flag > environment > profile > default, and the profile file.

Environment variable names are the Argilla SDK's where one exists, so a shell already set up
for `import argilla` works unchanged.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

ENV_API_URL = "ARGILLA_API_URL"
ENV_API_KEY = "ARGILLA_API_KEY"
ENV_PROFILE = "ARGILLA_HOOKS_PROFILE"
ENV_CONFIG = "ARGILLA_HOOKS_CONFIG"
ENV_DEBUG = "ARGILLA_HOOKS_DEBUG"
ENV_WEBHOOK_SECRET = "ARGILLA_WEBHOOK_SECRET"
ENV_PUBLIC_URL = "WEBHOOK_SERVER_URL"
ENV_JOURNAL = "ARGILLA_HOOKS_JOURNAL"
DEFAULT_JOURNAL_KEEP = 10_000  # deliveries a journal keeps, the newest

DEFAULT_API_URL = "http://localhost:6900"
DEFAULT_PROFILE = "default"
# Where `hooks listen` serves by default, so where `hooks trigger` sends by default.
DEFAULT_RECEIVER_URL = "http://127.0.0.1:8000/"


class ProfileError(Exception):
    """A named profile that does not exist, or a config file that cannot be read, understood or written."""


@dataclass(frozen=True)
class Settings:
    api_url: str
    api_key: Optional[str]
    profile: Optional[str]  # the profile that supplied a value, if any


def config_path() -> Path:
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "argilla-hooks" / "config.toml"


def default_journal_path() -> Path:
    """Where `hooks listen` records deliveries and `hooks deliveries` reads them: $XDG_STATE_HOME/argilla-hooks/."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "argilla-hooks" / "journal.sqlite3"


def debug_enabled() -> bool:
    return os.environ.get(ENV_DEBUG, "").lower() in ("1", "true", "yes")


MAX_CONFIG_SIZE = 1024 * 1024
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOT_A_FILE = f"not a regular file (set {ENV_CONFIG} to a file you can write)"


def load_config(path: Optional[Path] = None) -> dict[str, Any]:
    """The config file's content, its shape checked (the file may have been edited by hand); {} when there is none."""
    path = path or config_path()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        # Non-blocking: opening a named pipe, or reading one (`/dev/stdout` on a pipe is this process's own output),
        # or a terminal, would wait for ever.
        with open(os.open(path, os.O_RDONLY | _NONBLOCK), "rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                raise ProfileError(f"cannot read {path}: {_NOT_A_FILE}")
            # Bounded: the path may name a device that never ends (/dev/zero), and a profile takes a few hundred bytes.
            data = file.read(MAX_CONFIG_SIZE + 1) or b""
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_SIZE:
        raise ProfileError(f"cannot read {path}: larger than {MAX_CONFIG_SIZE // 1024 // 1024} MiB, so not a config file (set {ENV_CONFIG} to one)")
    try:
        config = tomllib.loads(data.decode("utf-8"))
    except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError
        raise ProfileError(f"cannot read {path}: {exc}") from None
    _check_shape(config, path)
    return config


def _check_shape(config: dict[str, Any], path: Path) -> None:
    """Raise ProfileError naming the file and the key where the config is not `[profiles.NAME]` tables of strings.

    Values are not shown: one of them may be an API key.
    """
    found = config.get("profiles", {})
    if not isinstance(found, dict):
        raise ProfileError(f"{path}: `profiles` must be a table of profiles such as [profiles.default]; fix it")
    for name, profile in found.items():
        if not isinstance(profile, dict):
            raise ProfileError(
                f"{path}: profiles.{name} must be a table [profiles.{name}] with api_url and api_key; fix it"
            )
        for key, value in profile.items():
            if not isinstance(value, str):
                raise ProfileError(f'{path}: profiles.{name}.{key} must be a quoted string, e.g. {key} = "..."; fix it')


def profiles(config: Optional[dict[str, Any]] = None) -> dict[str, dict[str, str]]:
    config = load_config() if config is None else config
    return config.get("profiles", {})


def resolve(api_url: Optional[str] = None, api_key: Optional[str] = None, profile: Optional[str] = None) -> Settings:
    """Settings for one command. `api_url`/`api_key`/`profile` already hold flag-or-env values (typer's envvar).

    A profile's key is only ever sent to that profile's server: with the URL from a flag or the environment and the
    key from a profile saved for another URL, this refuses (ProfileError) rather than hand the key to a stranger.
    """
    name = profile or os.environ.get(ENV_PROFILE)
    if api_url and api_key and not name:
        return Settings(api_url, api_key, None)  # nothing to take from the file, so a broken one does not matter
    all_profiles = profiles()
    if name and name not in all_profiles:
        raise ProfileError(f"no profile {name!r} in {config_path()}; create it with `hooks login --profile {name}`")
    chosen = all_profiles.get(name or DEFAULT_PROFILE, {})
    used = (name or DEFAULT_PROFILE) if chosen else None
    # A profile with a key and no URL (written by hand) is for the default URL, where it would be used.
    saved_url, saved_key = chosen.get("api_url") or DEFAULT_API_URL, chosen.get("api_key")
    if api_url and not api_key and saved_key and not _same_server(api_url, saved_url):
        from argilla_hooks.urls import shown_api_url  # (pydantic, which `hooks --help` does without)

        raise ProfileError(
            f"profile {used!r} holds the API key of {saved_url}, not of {shown_api_url(api_url)}: give that server's key "
            f"(--api-key or {ENV_API_KEY}), or drop the URL to use {saved_url}"
        )
    return Settings(api_url=api_url or saved_url, api_key=api_key or saved_key, profile=used)


def _same_server(url: str, other: str) -> bool:
    return url.strip().rstrip("/").lower() == other.strip().rstrip("/").lower()


def check_writable(path: Optional[Path] = None) -> None:
    """ProfileError when the config file exists and is not a regular file (or a link to one): written to, /dev/null
    would lose the profile while we said it was saved, and a named pipe would wait for a reader for ever."""
    path = path or config_path()
    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing (made when written), or a parent in the way (said then)
        return
    if not stat.S_ISREG(mode):
        raise ProfileError(f"cannot write {path}: {_NOT_A_FILE}")


def save_profile(name: str, api_url: str, api_key: str) -> Path:
    check_writable()
    with _one_writer():
        config = load_config()
        config.setdefault("profiles", {})[name] = {"api_url": api_url, "api_key": api_key}
        return _write(config)


def remove_profile(name: str) -> bool:
    if not config_path().exists():  # nothing to remove: no lock, no directory made
        return False
    with _one_writer():
        config = load_config()
        if name not in config.get("profiles", {}):
            return False
        check_writable()
        del config["profiles"][name]
        _write(config)
        return True


@contextlib.contextmanager
def _one_writer() -> Iterator[None]:
    """Read, change and write the file as one step: two `hooks login` at once each wrote back what they had read, and
    one profile was lost. An exclusive lock on `config.toml.lock` beside it (none where fcntl is missing: Windows).
    It also makes the directory, mode 0700, which `_write` relies on."""
    path = config_path()
    try:
        # Every directory made here is private (mkdir's `parents` would give the umask's mode to all but the last),
        # and so is the lock: in a shared directory another user could otherwise hold it and stall every login.
        for directory in reversed([path.parent, *path.parent.parents]):
            if not directory.is_dir():
                directory.mkdir(mode=0o700, exist_ok=True)
        lock = os.fdopen(os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NONBLOCK, 0o600), "a")
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    with lock:
        with contextlib.suppress(ImportError):
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write(config: dict[str, Any]) -> Path:
    """Write atomically with mode 0600: the file holds API keys, and a crash must not leave half a file."""
    import tomli_w

    path = config_path()
    try:
        return write_atomically(path, tomli_w.dumps(config).encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _cannot_write(path: Path, exc: OSError) -> ProfileError:
    # mkdir says "File exists" (or "Not a directory") when a file stands where a directory must be.
    in_the_way = isinstance(exc, (FileExistsError, NotADirectoryError))
    reason = "a parent is a file, not a directory" if in_the_way else exc.strerror or str(exc)
    return ProfileError(f"cannot write {path}: {reason} (set {ENV_CONFIG} to a file you can write)")


def write_atomically(path: str | Path, data: bytes, *, mode: Optional[int] = None) -> Path:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it over `path`.

    `mode` None keeps an existing file's permissions, or gives a new one what `open()` would (0o666 minus
    the umask); the temporary file is never readable by others before that mode is set. A symbolic link is
    followed, so its target gets the new content and the link stays (a dotfiles repository, say). Anything that is
    not a regular file (/dev/stdout, /dev/null, a named pipe) is written to as it is: replacing it would put a plain
    file where a device or a pipe was. Returns `path`.
    """
    given = Path(path)
    try:
        special = not stat.S_ISREG(os.stat(given).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(given, "wb") as handle:
            handle.write(data)
        return given
    path = Path(os.path.realpath(given))
    if mode is None:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return given


def _umask() -> int:
    current = os.umask(0)  # the only way to read it is to set it
    os.umask(current)
    return current

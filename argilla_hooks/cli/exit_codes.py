"""Every exit code `hooks` uses; the README lists them and scripts may rely on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # any other failure, e.g. a ping Argilla could not deliver
    CHANGES = 1  # `apply --exit-code`: the server did not match the file (like `git diff --exit-code`)
    USAGE = 2  # usage error or input rejected before any request
    AUTH = 3  # the API key was rejected (401) or the user is not an owner (403)
    NOT_FOUND = 4  # 404, or no webhook id matches the prefix
    REJECTED = 5  # the server refused the request (422, e.g. the 10-webhook limit)
    UNREACHABLE = 6  # Argilla cannot be reached: refused, DNS, timeout
    INTERRUPTED = 130  # Ctrl-C

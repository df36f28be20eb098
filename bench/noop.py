"""Do-nothing handlers for `hooks listen` in listen_throughput.py: `noop:handler` (def) and `noop:async_handler`."""


def handler():
    pass


async def async_handler():
    pass

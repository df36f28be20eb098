"""Server (a) of listen_throughput.py: a bare ASGI app that reads the body and answers 204, verifying nothing.

HTTP only: the benchmark serves it with `--lifespan off`.
"""


async def app(scope, receive, send):
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})

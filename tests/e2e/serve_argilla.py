"""Run Argilla's API server or its rq worker with a no-op search engine.

Runs inside the Argilla server venv (not the project's): `serve_argilla.py setup USER-OPTIONS`
(migrate the database, create a user), `serve_argilla.py server HOST PORT`, `serve_argilla.py worker`. Elasticsearch/OpenSearch cannot be installed on the test
machines, and Argilla refuses to start without a search engine; webhooks never touch it, so an
engine that stores nothing keeps everything webhook-related exactly as in production. The engine is
selected with ARGILLA_SEARCH_ENGINE=noop and must be registered in every process that may look it
up: the API (startup ping, /status, dataset and record handlers) and the worker (dataset jobs).
"""

import sys

from argilla_server.enums import MetadataPropertyType
from argilla_server.search_engine.base import (
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    SearchEngine,
    SearchResponses,
    TermsMetrics,
)


@SearchEngine.register(engine_name="noop")
class NoopSearchEngine(SearchEngine):
    """Accepts every write, finds nothing, and reports empty progress and metrics."""

    @classmethod
    async def new_instance(cls) -> "NoopSearchEngine":
        return cls()

    async def close(self):
        pass

    async def ping(self) -> bool:
        return True

    async def info(self) -> dict:
        return {"engine": "noop"}

    async def create_index(self, dataset):
        pass

    async def delete_index(self, dataset):
        pass

    async def configure_metadata_property(self, dataset, metadata_property):
        pass

    async def index_records(self, dataset, records):
        pass

    async def partial_record_update(self, record, **update):
        pass

    async def delete_records(self, dataset, records):
        pass

    async def update_record_response(self, response):
        pass

    async def delete_record_response(self, response):
        pass

    async def update_record_suggestion(self, suggestion):
        pass

    async def delete_record_suggestion(self, suggestion):
        pass

    async def get_dataset_progress(self, dataset) -> dict:
        return {"total": 0}

    async def get_dataset_user_progress(self, dataset, user) -> dict:
        return {"total": 0}

    async def search(self, dataset, query=None, filter=None, sort=None, offset=0, limit=100) -> SearchResponses:
        return SearchResponses(items=[], total=0)

    async def compute_metrics_for(self, metadata_property):
        if metadata_property.type == MetadataPropertyType.integer:
            return IntegerMetadataMetrics()
        if metadata_property.type == MetadataPropertyType.float:
            return FloatMetadataMetrics()
        return TermsMetrics(total=0)

    async def similarity_search(self, dataset, vector_settings, **kwargs) -> SearchResponses:
        return SearchResponses(items=[], total=0)


def main(argv: list[str]) -> None:
    from argilla_server.cli import app

    def argilla_server(*args: str) -> None:  # as `python -m argilla_server ARGS`, without exiting
        app(list(args), prog_name="argilla_server", standalone_mode=False)

    command, args = argv[0] if argv else "", argv[1:]
    if command == "setup":
        # Both commands in one interpreter: importing argilla_server costs ~4 s per process.
        argilla_server("database", "migrate")
        argilla_server("database", "users", "create", *args)
    elif command == "server" and len(args) == 2:
        import uvicorn

        uvicorn.run("argilla_server._app:app", host=args[0], port=int(args[1]), log_level="info")
    elif command == "worker" and not args:
        # Its pool forks the worker processes, so they inherit the registration above.
        argilla_server("worker", "--num-workers", "1")
    else:
        sys.exit("usage: serve_argilla.py setup USER-OPTIONS | server HOST PORT | worker")


if __name__ == "__main__":
    main(sys.argv[1:])

"""`hooks listen --reload`: the handlers' modules imported again when their files change, inside the running listener,
so that the port, the journal and a --register webhook stay as they are (then `hooks deliveries replay --last`).

Watched and reloaded: the modules of the targets, and every module imported from the --app-dir tree that is not an
installed package (site-packages, the interpreter's prefix) nor argilla_hooks itself. A reload that fails (a syntax
error, an exception at import) is reported and the handlers loaded before go on serving.
"""

from __future__ import annotations

import importlib
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import anyio.to_thread
import watchfiles

from argilla_hooks.cli import output
from argilla_hooks.receiver import Handler, ReceiverApp

Load = Callable[[], list[Handler]]


class Reloader:
    """Watches the handlers' files; `run()` is a background task of the listener."""

    def __init__(self, targets: tuple[str, ...], app_dir: str, load: Load, app: ReceiverApp) -> None:
        self.load, self.app = load, app
        self.root = Path(app_dir).resolve()
        self.target_modules = {target.partition(":")[0] for target in targets}
        self.files = {path for _, path in self._user_modules()}

    async def run(self) -> None:
        directories = sorted({str(path.parent) for path in self.files})
        # rust_timeout: how long a stop may wait for the watching thread to notice it (watchfiles' default is 5 s).
        watching = watchfiles.awatch(*directories, watch_filter=watchfiles.PythonFilter(), recursive=False, rust_timeout=500)
        async for changes in watching:
            changed = sorted({Path(path).name for _, path in changes})
            try:
                handlers = await anyio.to_thread.run_sync(self._reimport)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's module: any failure is theirs to fix
                output.warn(f"reload after a change to {', '.join(changed)} failed, the handlers loaded before go on: {exc}")
                continue
            self.app.replace_handlers(handlers)
            self.files |= {path for _, path in self._user_modules()}  # modules the new code imports too
            output.info(f"reloaded {', '.join(h.name for h in handlers)} after a change to {', '.join(changed)}")

    def _reimport(self) -> list[Handler]:
        """The handlers loaded again from fresh imports of the user's modules; on failure, those modules as before."""
        stale = {name: sys.modules[name] for name, _ in self._user_modules()}
        for name in stale:
            del sys.modules[name]
        importlib.invalidate_caches()
        try:
            return self.load()
        except BaseException:
            sys.modules.update(stale)
            raise

    def _user_modules(self) -> Iterator[tuple[str, Path]]:
        installed = [Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}]
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if not file or name.partition(".")[0] == "argilla_hooks":
                continue
            path = Path(file).resolve()
            if name in self.target_modules or (path.is_relative_to(self.root) and not _under(path, installed)):
                yield name, path


def _under(path: Path, directories: list[Path]) -> bool:
    return any(path.is_relative_to(d) for d in directories) or "site-packages" in path.parts or "dist-packages" in path.parts

"""User code a scenario names explicitly: ``module:function`` from the scenario's own folder.

Only a file inside the scenario's folder is loaded (``routing:route`` is ``routing.py`` there,
``pkg.routing:route`` is ``pkg/routing.py``, and ``routing.py:route`` names the file itself);
nothing is looked up on ``sys.path``, so a scenario cannot pick up an installed module by
accident. The resolved scenario keeps the absolute file (``/abs/folder/routing.py:route``),
so a run in another process loads the same code.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LOADED: dict[tuple[str, int], Any] = {}  # (file, mtime) -> module: loaded once per process


class CustomCodeError(Exception):
    """The code cannot be found, imported, or has no such callable."""


def locate(reference: str, base_dir: Path) -> tuple[Path, str]:
    """The file and function name of ``module:function`` (or ``file.py:function``)."""
    module, _, name = reference.rpartition(":")
    relative = Path(module) if module.endswith(".py") else Path(*module.split(".")).with_suffix(
        ".py")
    path = relative if relative.is_absolute() else (base_dir / relative)
    return path.resolve(), name


def load(reference: str, base_dir: Path) -> tuple[Callable[..., Any], str]:
    """The callable, and the resolved reference (absolute file and function name)."""
    path, name = locate(reference, base_dir)
    if not Path(reference.rpartition(":")[0]).is_absolute():
        folder = base_dir.resolve()
        if folder not in path.parents:
            raise CustomCodeError(f"{path} is outside the scenario's folder {folder}")
    if not path.is_file():
        raise CustomCodeError(f"no file {path} (looked in the scenario's folder)")
    module = _module(path)
    function = getattr(module, name, None)
    if not callable(function):
        raise CustomCodeError(f"{path.name} has no function {name!r}")
    return function, f"{path}:{name}"


def _module(path: Path) -> Any:
    key = (str(path), path.stat().st_mtime_ns)
    module = _LOADED.get(key)
    if module is None:
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(f"mqsim_custom_{digest}", path)
        if spec is None or spec.loader is None:
            raise CustomCodeError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # the user's code: say what it raised
            raise CustomCodeError(
                f"importing {path.name} raised {type(error).__name__}: {error}") from error
        _LOADED[key] = module
    return module

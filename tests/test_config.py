"""Configuration: file, environment and flags, with one-line errors naming the key."""

import re
from pathlib import Path

import pytest
import yaml
from harness.newsbot import REPO, run_newsbot

from bot.config import ConfigError, Settings, load_settings


def test_config_yaml_documents_exactly_the_defaults() -> None:
    from_file = load_settings(REPO / "config.yaml")
    assert from_file.model_dump() == Settings().model_dump()
    # a key whose default depends on the index is documented commented out: "  # key: 256"
    text = re.sub(r"^  # (\w+: \S+)$", r"  \1", (REPO / "config.yaml").read_text(), flags=re.M)
    documented = yaml.safe_load(text)
    assert set(documented) == set(Settings.model_fields)
    for section, values in Settings().model_dump().items():
        if isinstance(values, dict):
            assert set(documented[section] or {}) == set(values), section


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("retrieval:\n  kk: 3\n", "retrieval.kk: unknown key"),
        ("retrieval:\n  k: many\n", "retrieval.k: Input should be a valid integer"),
        ("retrieval:\n  k: 0\n", "retrieval.k: Input should be greater than or equal to 1 (got 0)"),
        ("answer:\n  mode: magic\n", "answer.mode: Input should be 'extractive'"),
        (
            "chunking:\n  max_tokens: 64\n  overlap_tokens: 40\n",
            "chunking: overlap_tokens must be less than half of max_tokens",
        ),
        ("colour: red\n", "colour: unknown key"),
        ("retrieval: [1, 2\n", "config.yaml:2"),
        ("- just\n- a list\n", "expected a mapping of sections"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_section_with_every_key_commented_out_is_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "chunking:\n  # max_tokens: 256\nretrieval:\n"))
    assert settings.chunking == Settings().chunking
    assert settings.retrieval == Settings().retrieval


def test_precedence_is_flags_then_environment_then_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "data_dir: from-file\nretrieval:\n  k: 3\n  min_score: 0.1\n")
    assert load_settings(path).retrieval.k == 3
    monkeypatch.setenv("NEWSBOT_RETRIEVAL__K", "9")
    monkeypatch.setenv("NEWSBOT_DATA_DIR", "from-env")
    settings = load_settings(path)
    assert (settings.retrieval.k, settings.retrieval.min_score) == (9, 0.1)
    assert settings.data_dir == Path("from-env")
    assert load_settings(path, data_dir=Path("from-flag")).data_dir == Path("from-flag")


def test_bad_environment_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_RETRIEVAL__K", "-1")
    with pytest.raises(ConfigError, match=r"retrieval\.k: Input should be greater"):
        load_settings()


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; check --config"):
        load_settings(tmp_path / "nope.yaml")


def test_current_directory_config_is_used(tmp_path: Path) -> None:
    write(tmp_path, "answer:\n  max_sentences: 4\n")
    assert load_settings().answer.max_sentences == 4


def test_a_bad_environment_value_names_the_variable_not_a_missing_file(tmp_path: Path) -> None:
    result = run_newsbot("stats", cwd=tmp_path, env={"NEWSBOT_RETRIEVAL__K": "abc"})
    assert result.returncode == 2
    assert result.stderr == (
        "newsbot: invalid configuration: retrieval.k: Input should be a valid integer, "
        "unable to parse string as an integer (got 'abc') from NEWSBOT_RETRIEVAL__K\n"
    )


def test_a_bad_file_value_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "retrieval:\n  k: 0\n"))
    assert str(err.value) == (
        "invalid configuration: retrieval.k: Input should be greater than or equal to 1 "
        f"(got 0) in {tmp_path / 'config.yaml'}"
    )


def test_unknown_newsbot_variables_are_warned_about(tmp_path: Path) -> None:
    env = {
        "NEWSBOT_RETRIEVL__K": "3",
        "NEWSBOT_DATADIR": "elsewhere",
        "NEWSBOT_MODEL_CACHE": str(tmp_path / "models"),  # documented, not a setting
        "NEWSBOT_DATA_DIR": "data",
    }
    result = run_newsbot("feeds", "list", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "newsbot: warning: ignoring NEWSBOT_DATADIR: no setting is called datadir",
        "newsbot: warning: ignoring NEWSBOT_RETRIEVL__K: no setting is called retrievl",
    ]
    misspelt_key = run_newsbot("feeds", "list", cwd=tmp_path, env={"NEWSBOT_RETRIEVAL__KK": "3"})
    assert misspelt_key.returncode == 2
    assert misspelt_key.stderr == (
        "newsbot: invalid configuration: retrieval.kk: unknown key from NEWSBOT_RETRIEVAL__KK\n"
    )

"""Settings: `config.yaml`, then `NEWSBOT_*` environment variables, then command-line flags.

Everything is validated once at start-up. A mistake becomes a `ConfigError` whose
message names the key, e.g. `retrieval.k: Input should be greater than or equal to 1 (got 0)`.
Secrets never live here; they come from the environment (see the Telegram front end).
"""

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, InitSettingsSource, SettingsConfigDict

from index.errors import NewsbotError
from index.settings import (
    ChunkingSettings,
    EmbeddingSettings,
    FeedSettings,
    FetchSettings,
    IngestSettings,
    Section,
    StoreSettings,
)

DEFAULT_CONFIG = Path("config.yaml")
ENV_PREFIX = "NEWSBOT_"
# NEWSBOT_ variables that are not settings: read by newsbot itself or by the Docker files
OTHER_VARIABLES = frozenset(
    {"CONFIG", "MODEL_CACHE", "WEBHOOK_URL", "HEALTH_PORT", "ARTICLES", "IMAGE", "PUBLISH"}
)


class ConfigError(NewsbotError):
    """The configuration is invalid; the message names the key."""


class RetrievalSettings(Section):
    """How many chunks to retrieve, and when evidence is too weak to answer."""

    k: int = Field(6, ge=1, le=100)
    min_score: float = Field(0.2, ge=-1.0, le=1.0)
    fetch_k: int = Field(40, ge=1, le=1000)
    lexical_weight: float = Field(0.2, ge=0.0, le=10.0)
    date_weight: float = Field(0.1, ge=0.0, le=10.0)
    date_scale_days: float = Field(14.0, gt=0.0)
    duplicate_similarity: float = Field(0.95, gt=0.0, le=1.0)


class AnswerSettings(Section):
    """How answers are written."""

    mode: Literal["extractive", "llm"] = "extractive"
    min_evidence: float = Field(0.15, ge=0.0, le=1.0)
    max_sentences: int = Field(2, ge=1, le=10)
    history_turns: int = Field(3, ge=0, le=50)


class LLMSettings(Section):
    """The chat model for `answer.mode: llm`. API keys come from the environment."""

    provider: Literal["llamacpp", "openai", "ollama"] = "llamacpp"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    model_path: Path | None = None
    n_ctx: int = Field(2048, ge=256, le=1_048_576)
    n_threads: int | None = Field(None, ge=1, le=256)
    temperature: float = Field(0.1, ge=0.0, le=2.0)
    max_tokens: int = Field(200, ge=16, le=32_768)
    context_tokens: int = Field(1200, ge=64, le=1_000_000)
    timeout_s: float = Field(60.0, gt=0.0)
    max_concurrency: int = Field(32, ge=1, le=256)
    min_support: float = Field(0.6, ge=0.0, le=1.0)
    attribute_uncited: bool = False
    prompts_dir: Path | None = None


class WatchSettings(Section):
    """When a new article alerts a Telegram chat's watch, and how many alerts it gets."""

    min_score: float = Field(0.72, ge=-1.0, le=10.0)
    lexical_weight: float = Field(0.5, ge=0.0, le=10.0)
    max_alerts: int = Field(5, ge=1, le=50)
    max_per_chat: int = Field(20, ge=1, le=100)


class DigestSettings(Section):
    """How the day's articles become stories in `newsbot digest` and Telegram's /digest."""

    story_similarity: float = Field(0.72, gt=0.0, le=1.0)
    story_days: int = Field(2, ge=0, le=30)
    max_stories: int = Field(10, ge=1, le=100)


def _known_timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None
    return name


class TelegramSettings(Section):
    """The Telegram front end. The token comes from TELEGRAM_BOT_TOKEN, never from here."""

    allowed_user_ids: list[int] = Field(default_factory=list)
    admin_user_ids: list[int] = Field(default_factory=list)
    allowed_chat_ids: list[int] = Field(default_factory=list)
    questions_per_minute: int = Field(10, ge=1, le=600)
    answer_workers: int = Field(2, ge=1, le=32)
    state_file: Path | None = None
    webhook_secret_env: str = "TELEGRAM_WEBHOOK_SECRET"
    heartbeat_file: Path | None = None
    heartbeat_every_s: float = Field(30.0, ge=0.5, le=3600.0)
    max_document_mb: float = Field(20.0, ge=0.1, le=2000.0)
    timezone: Annotated[str, AfterValidator(_known_timezone)] = "UTC"
    digest_check_s: float = Field(30.0, ge=0.5, le=3600.0)
    alert_check_s: float = Field(10.0, ge=0.5, le=3600.0)
    alert_retry_s: float = Field(5.0, ge=0.1, le=3600.0)


class LoggingSettings(Section):
    """Where log lines go and how many."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    file: Path | None = None


class Settings(BaseSettings):
    """The whole configuration of newsbot."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Path("data")
    # the shared bot state's database URL; None: SQLite at telegram.state_file
    state: str | None = None
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ingest: IngestSettings = IngestSettings()
    fetch: FetchSettings = FetchSettings()
    feeds: FeedSettings = FeedSettings()
    store: StoreSettings = StoreSettings()
    llm: LLMSettings = LLMSettings()
    watch: WatchSettings = WatchSettings()
    digest: DigestSettings = DigestSettings()
    telegram: TelegramSettings = TelegramSettings()
    logging: LoggingSettings = LoggingSettings()

    @property
    def state_url(self) -> str:
        """The shared database's URL: `state`, or SQLite at telegram.state_file (whose
        default is telegram-state.sqlite in the data directory)."""
        return self.state or f"sqlite:///{self.state_file}"

    @property
    def state_file(self) -> Path:
        """The SQLite state file: used when `state` is not set, and imported into Postgres."""
        return self.telegram.state_file or self.data_dir / "telegram-state.sqlite"


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load and validate the config file, the environment and explicit overrides.

    Without `path`, `NEWSBOT_CONFIG` or `./config.yaml` is used when present; with
    neither, the built-in defaults (which `config.yaml` documents) apply.
    """
    explicit = path or (
        Path(os.environ["NEWSBOT_CONFIG"]) if os.environ.get("NEWSBOT_CONFIG") else None
    )
    file_values = _read_yaml(explicit, required=True) if explicit else _read_yaml(DEFAULT_CONFIG)

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(  # type: ignore[override]
            cls, settings_cls: type[BaseSettings], init_settings: Any, env_settings: Any, **_: Any
        ) -> tuple[Any, ...]:
            return init_settings, env_settings, InitSettingsSource(settings_cls, file_values)

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return _Layered(**given)
    except ValidationError as exc:
        path = explicit or DEFAULT_CONFIG
        raise ConfigError(describe(exc, lambda loc: _source(loc, file_values, path))) from None


def describe(exc: ValidationError, source: Callable[[tuple[str, ...]], str]) -> str:
    """One line naming each bad key, what is wrong with it, and where the value came from."""
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        key = ".".join(loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown key {source(loc)}")
            continue
        message = error["msg"].removeprefix("Value error, ")
        got = error.get("input")
        shown = "" if isinstance(got, dict | BaseModel) else f" (got {got!r})"
        problems.append(f"{key}: {message}{shown} {source(loc)}")
    return "invalid configuration: " + "; ".join(problems)


def _source(loc: tuple[str, ...], file_values: dict[str, Any], path: Path) -> str:
    """Where a key's value came from: the NEWSBOT_ variable that set it, else the file."""
    environ = {k.upper(): k for k in os.environ}
    for depth in range(len(loc), 0, -1):  # NEWSBOT_RETRIEVAL__K, then NEWSBOT_RETRIEVAL
        name = ENV_PREFIX + "__".join(loc[:depth]).upper()
        if name in environ:
            return f"from {environ[name]}"
    in_file = bool(loc) and loc[0] in file_values
    return f"in {path}" if in_file else "in the command-line options"


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One warning per NEWSBOT_ variable that names no setting (and is silently ignored)."""
    warnings = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :]
        if rest.upper() in OTHER_VARIABLES:
            continue
        section, _, key = rest.lower().partition("__")
        field = Settings.model_fields.get(section)
        if field is None:
            warnings.append(f"ignoring {name}: no setting is called {section}")
        elif key and not _is_section(field.annotation):
            warnings.append(f"ignoring {name}: {section} has no keys")
    return warnings


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _read_yaml(path: Path, required: bool = False) -> dict[str, Any]:
    """The mapping in a YAML file; `{}` for a missing optional file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                f"config file {path} not found; check --config or NEWSBOT_CONFIG"
            ) from None
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"can't read config file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"config file {where}: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of sections at the top level")
    return {key: value for key, value in data.items() if value is not None}  # all keys commented

"""Platform settings: defaults from ``configs/default.yaml``, overridden by ``LMWEBUI_*``.

Nothing is read at import time: call :func:`load_settings` from the CLI, ``create_app``
or a deployment's ``__init__``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "configs" / "default.yaml"


class RateLimitSettings(BaseSettings):
    """Per-endpoint-group limits in the `limits` notation ("10/minute")."""

    enabled: bool = Field(True, description="Switch all rate limits on or off.")
    auth: str = Field("10/minute", description="Auth endpoints, per client address.")
    chat: str = Field("60/minute", description="Chat entry points, per user.")
    upload: str = Field("5/minute", description="File uploads, per user.")
    concurrent_downloads: int = Field(2, ge=1, description="Concurrent GGUF downloads per user.")
    shared: bool = Field(
        True,
        description="Keep counters in a shared Ray actor (needed with several ingress "
        "replicas); false keeps them in-process.",
    )


class ChatSettings(BaseSettings):
    """Chat engine defaults."""

    default_model: str = Field(
        "gemma3-270m-q4_k_m.gguf", description="Model used when a request names none."
    )
    n_slots: int = Field(16, ge=1, le=64, description="Parallel sequences per GGUF replica.")
    n_ctx_per_slot: int = Field(4096, ge=256, description="Context tokens per sequence.")
    n_threads: int | None = Field(None, description="llama.cpp threads (None = all cores).")
    n_gpu_layers: int = Field(0, description="Layers offloaded to GPU (-1 = all).")
    flash_attn: bool = Field(True, description="llama.cpp flash attention (faster batches).")
    deterministic: bool = Field(
        False,
        description="Batch-invariant kernels: greedy output independent of batch shape and "
        "KV reuse (about half the single-stream speed on CPU).",
    )
    max_models_per_replica: int = Field(2, ge=1, description="GGUF files kept loaded per replica.")
    max_message_chars: int = Field(100_000, ge=1, description="Longest accepted user message.")
    max_tokens_limit: int = Field(8192, ge=1, description="Largest accepted max_tokens.")
    openai_base_url: str | None = Field(
        None, description="Server-wide OpenAI-compatible base URL for provider 'openai'."
    )
    openai_api_key: SecretStr | None = Field(None, description="Server-wide upstream API key.")
    openai_timeout_s: float = Field(60.0, gt=0, description="Upstream request timeout.")
    vllm_base_url: str | None = Field(
        None, description="OpenAI-compatible URL of the vLLM Serve app; enables provider vllm."
    )
    vllm_default_model: str | None = Field(None, description="Default model for provider vllm.")


class Settings(BaseSettings):
    """Everything the platform reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="LMWEBUI_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    http_host: str = Field("127.0.0.1", description="Address the HTTP proxy binds.")
    http_port: int = Field(8000, ge=1, le=65535, description="Port the HTTP proxy binds.")
    data_dir: Path = Field(Path("./data"), description="Where state lives (DB, models, keys).")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL (sqlite+aiosqlite:///… or postgresql+asyncpg://…); "
        "default: SQLite file in the data dir.",
    )
    models_dir: Path | None = Field(
        None, description="GGUF models directory (default data/models)."
    )
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 signing key; generated into the data dir when unset."
    )
    fernet_key: SecretStr | None = Field(
        None, description="Fernet key for stored API keys; generated into the data dir when unset."
    )
    access_token_ttl_s: int = Field(900, ge=30, description="Access token lifetime (seconds).")
    refresh_token_ttl_s: int = Field(
        14 * 24 * 3600, ge=60, description="Refresh token lifetime (seconds)."
    )
    cookie_secure: bool = Field(False, description="Set the Secure flag on auth cookies.")
    allow_registration: bool = Field(True, description="Allow open registration.")
    admin_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="E-mails that get the admin role on registration."
    )
    ingress_replicas: int = Field(1, ge=1, description="Ingress deployment replicas.")
    ray_address: str | None = Field(
        None, description="Join this Ray cluster instead of starting a local one."
    )
    log_level: str = Field("INFO", description="Python log level.")
    serve_fast_path: bool = Field(
        True,
        description="Use Ray Serve's HAProxy ingress + direct ingress + throughput-optimised "
        "mode when this process starts Ray (HTTP only: terminate TLS in front). Falls back "
        "to the default proxy when no haproxy binary is found.",
    )
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("LMWEBUI_CONFIG_FILE", str(DEFAULT_CONFIG_FILE)))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _split_emails(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [e.strip() for e in value.split(",") if e.strip()]
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if self.models_dir is None:
            self.models_dir = self.data_dir / "models"
        self.models_dir = self.models_dir.expanduser().resolve()
        if self.database_url is None:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'app.db'}"
        elif not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return self

    @property
    def resolved_models_dir(self) -> Path:
        assert self.models_dir is not None
        return self.models_dir

    @property
    def resolved_database_url(self) -> str:
        assert self.database_url is not None
        return self.database_url


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the config file, the environment and explicit overrides."""
    return Settings(**overrides)


def describe_validation_error(exc: Exception) -> str:
    """One clear line naming the bad setting(s)."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for err in exc.errors():
        loc = "__".join(str(p) for p in err["loc"]) or "settings"
        name = f"LMWEBUI_{loc.upper()}" if err["loc"] else "settings"
        parts.append(f"{name}: {err['msg']}")
    return "invalid setting " + "; ".join(parts)

"""Platform settings: the field defaults below are the one source of defaults (the
engine's included: ``EngineConfig.from_settings``); ``configs/default.yaml`` holds only
values that differ; ``LMWEBUI_*`` overrides both.

Nothing is read at import time: call :func:`load_settings` from the CLI, ``create_app``
or a deployment's ``__init__``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from lmwebui.chat.vllm_config import VLLMSettings
from lmwebui.rag_settings import RagSettings
from lmwebui.security_settings import SecuritySettings

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
    n_threads_single: int | None = Field(
        None,
        ge=1,
        description="Threads when one sequence decodes alone (None = half of n_threads, the "
        "rest stays with the platform on the same node; set it to n_threads on nodes "
        "where the replica has the cores to itself).",
    )
    n_gpu_layers: int = Field(0, description="Layers offloaded to GPU (-1 = all).")
    flash_attn: bool = Field(True, description="llama.cpp flash attention (faster batches).")
    deterministic: bool = Field(
        False,
        description="Batch-invariant kernels: greedy output independent of batch shape and "
        "KV reuse (about half the single-stream speed on CPU).",
    )
    max_models_per_replica: int = Field(2, ge=1, description="GGUF files kept loaded per replica.")
    replicas: int = Field(1, ge=1, description="ChatGGUF replicas (the minimum when autoscaling).")
    max_replicas: int | None = Field(
        None, ge=1, description="Autoscale ChatGGUF up to this many replicas (None: fixed)."
    )
    target_ongoing_requests: float | None = Field(
        None, gt=0, description="Autoscaling target of ongoing streams per replica (None: n_slots)."
    )
    upscale_delay_s: float = Field(5.0, ge=0, description="Load lasts this long before scale-up.")
    downscale_delay_s: float = Field(30.0, ge=0, description="Idle this long before scale-down.")
    num_gpus: float = Field(
        0, ge=0, description="GPUs per ChatGGUF replica (> 0: placed on GPU nodes only)."
    )
    accelerator_type: str | None = Field(
        None, description="Ray accelerator type the replicas need, e.g. H100 (None: any)."
    )
    affinity_routing: bool = Field(
        True, description="Route a conversation's turns to the replica holding its KV cache."
    )
    max_message_chars: int = Field(100_000, ge=1, description="Longest accepted user message.")
    max_tokens_limit: int = Field(8192, ge=1, description="Largest accepted max_tokens.")
    openai_base_url: str | None = Field(
        None, description="Server-wide OpenAI-compatible base URL for provider 'openai'."
    )
    openai_api_key: SecretStr | None = Field(None, description="Server-wide upstream API key.")
    openai_timeout_s: float = Field(60.0, gt=0, description="Upstream request timeout.")
    vllm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible URL of one vLLM server; enables provider vllm (None: "
        "the apps of `vllm.models`, one per model, through the local Serve proxy, when there "
        "are any; set beside `vllm.models`, which must then name one model: its app at this "
        "address).",
    )
    vllm_default_model: str | None = Field(
        None, description="Default model for provider vllm (None: the first of vllm.models)."
    )
    allowed_provider_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names or IPs a user's own provider base URL may reach although they "
        "are not public (loopback, private, link-local...); '.example.com' allows its "
        "subdomains. Empty: public addresses only. Comma-separated in the environment. "
        "Server-wide URLs (openai_base_url, vllm_base_url) are trusted and need no entry.",
    )
    allowed_provider_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Networks (CIDR, e.g. 10.20.0.0/16) a user's own provider base URL may "
        "reach although they are not public. Cloud metadata addresses stay refused. "
        "Comma-separated in the environment.",
    )

    @field_validator("allowed_provider_hosts", "allowed_provider_networks", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("allowed_provider_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(v, strict=False)) for v in value]


class GGUFSettings(BaseSettings):
    """GGUF model management: the hub, downloads, uploads, storage bounds."""

    hub_endpoint: str | None = Field(
        None,
        description="Hugging Face Hub base URL (None: HF_ENDPOINT, else https://huggingface.co). "
        "Downloads may only come from this host (plus extra_hub_hosts).",
    )
    extra_hub_hosts: list[str] = Field(
        default_factory=list,
        description="More host names accepted in a download's file_url (e.g. hf.co).",
    )
    redirect_hosts: list[str] = Field(
        default_factory=lambda: ["huggingface.co", ".huggingface.co", "hf.co", ".hf.co"],
        description="Hosts a hub download may redirect to (a leading dot allows subdomains); "
        "they must resolve to public addresses.",
    )
    admin_only: bool = Field(
        True, description="Only administrators may download, upload and delete models."
    )
    hub_timeout_s: float = Field(20.0, gt=0, description="Timeout of one hub metadata call.")
    connect_timeout_s: float = Field(10.0, gt=0, description="Download connect timeout.")
    read_timeout_s: float = Field(
        30.0, gt=0, description="A download that receives nothing this long is retried."
    )
    max_retries: int = Field(
        5, ge=0, description="Resumes (HTTP Range) after network errors before a download fails."
    )
    max_download_bytes: int = Field(
        256 * 1024**3, gt=0, description="Largest file a download may fetch."
    )
    max_upload_bytes: int = Field(64 * 1024**3, gt=0, description="Largest accepted upload.")
    reserve_free_bytes: int = Field(
        1024**3, ge=0, description="Free disk space kept after a download or upload."
    )
    max_storage_bytes: int | None = Field(
        None, gt=0, description="Quota for everything in the models directory (None: disk only)."
    )
    progress_interval_s: float = Field(
        0.5, gt=0, description="Least time between two progress events of one download."
    )
    finished_task_ttl_s: float = Field(
        24 * 3600.0, gt=0, description="How long finished download tasks stay queryable."
    )
    unload_timeout_s: float = Field(
        60.0, gt=0, description="How long a delete waits for chat replicas to unload a model."
    )
    fsync: bool = Field(
        True,
        description="fsync a downloaded/uploaded file before it appears under its name "
        "(survives power loss; costs disk bandwidth on fast links).",
    )


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
    sqlite_busy_timeout_ms: int = Field(
        10_000,
        ge=0,
        description="How long a SQLite writer waits for the file lock before the request "
        "fails with a retryable 503 (several ingress replicas on SQLite contend for it; "
        "use PostgreSQL for those).",
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
    proxy_location: Literal["EveryNode", "HeadOnly"] = Field(
        "EveryNode",
        description="Where Serve runs HTTP proxies: every node (clusters with one node per "
        "host) or the head only (several Ray nodes sharing one host and port).",
    )
    log_level: str = Field("INFO", description="Python log level.")
    serve_fast_path: bool = Field(
        True,
        description="Use Ray Serve's HAProxy ingress + direct ingress + throughput-optimised "
        "mode when this process starts Ray (HTTP only: terminate TLS in front). Falls back "
        "to the default proxy when no haproxy binary is found.",
    )
    metrics_export_port: int = Field(
        8079,
        ge=0,
        le=65535,
        description="Port of Ray's Prometheus metrics export on the node this process starts "
        "(0 = random). Scrape targets are written to data/prometheus/ray_targets.json.",
    )
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    gguf: GGUFSettings = Field(default_factory=GGUFSettings)
    rag: RagSettings = Field(default_factory=RagSettings)
    vllm: VLLMSettings = Field(default_factory=VLLMSettings)

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

    @model_validator(mode="after")
    def _one_vllm_server(self) -> Settings:
        # chat.vllm_base_url is one server: the models after the first would be deployed
        # and never reached
        if self.chat.vllm_base_url and len(self.vllm.models) > 1:
            raise ValueError(
                "chat.vllm_base_url names one vLLM server: with several vllm.models leave it "
                "unset (the ingress reaches each model's app through its node's proxy)"
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

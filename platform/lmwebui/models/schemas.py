"""The /api/gguf shapes: requests, and what GGUFService answers (resolve, downloads, local
models, upload, delete, compatibility)."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, Field

from lmwebui.chat.events import Sparse

# --- requests -----------------------------------------------------------------------------


class ResolveRequest(BaseModel):
    input: str = Field(
        min_length=1,
        max_length=2048,
        description="owner/repo, owner/repo:file.gguf, owner/repo@revision:file or a hub URL",
    )


class DownloadRequest(BaseModel):
    file_url: str = Field(min_length=1, max_length=2048, description="Hub resolve URL")
    filename: str | None = Field(
        None, max_length=255, description="Local file name (default: the remote name)"
    )


# --- resolve ------------------------------------------------------------------------------


class SplitPart(BaseModel):
    part: int = Field(description="1-based number of this part.")
    of: int = Field(description="How many parts the model has.")


class HubFileOut(BaseModel):
    """One GGUF file of a hub repository."""

    repo_id: str = Field(description="owner/repo.")
    revision: str = Field(description="The revision asked for (default branch when none).")
    commit: str | None = Field(description="The commit the revision points at.")
    filename: str = Field(description="The file's name, without folders.")
    path: str = Field(description="The file's path in the repository.")
    url: str = Field(description="Its resolve URL: what POST /api/gguf/download takes.")
    size_bytes: int | None = Field(description="Size as the hub reports it.")
    human_size: str | None = Field(description="size_bytes for a person (4.2 GB).")
    quantization: str | None = Field(description="From the file name (Q4_K_M, ...).")
    sha256: str | None = Field(description="The LFS sha256 the download is verified against.")
    split: SplitPart | None = Field(description="Part of a split model (…-00001-of-00003).")


class ResolveResult(HubFileOut):
    """The chosen file (the one named, or a sensible default) and every GGUF file offered."""

    resolved: bool = Field(True, description="Always true (failures answer an error).")
    default_selected: bool = Field(description="True when no file was named and one was picked.")
    files: list[HubFileOut] = Field(description="Every GGUF file of the repository.")
    quantizations: list[str] = Field(description="The quantizations offered, sorted.")


# --- downloads ----------------------------------------------------------------------------


class DownloadStarted(BaseModel):
    task_id: str = Field(description="Watch it on websocket_url or GET /api/gguf/download/{id}.")
    status: Literal["started"] = "started"
    websocket_url: str = Field(description="/ws/gguf/download/{task_id}.")
    joined: bool = Field(description="True when the same file was already downloading.")
    filename: str = Field(description="The local file name it will have.")
    total_bytes: int = Field(description="Size of the file.")
    human_size: str = Field(description="total_bytes for a person.")
    sha256: str | None = Field(description="What the file is verified against, when known.")


class DownloadSnapshot(BaseModel):
    """One download task as it stands (the download manager's snapshot)."""

    task_id: str
    status: str = Field(description="queued, running, verifying, completed, error, cancelled.")
    filename: str = Field(description="The local file name.")
    repo_id: str = Field(description="owner/repo on the hub.")
    revision: str = Field(description="The revision asked for.")
    commit: str | None = Field(description="The commit it resolved to (what is fetched).")
    path: str = Field(description="The file's path in the repository.")
    url: str = Field(description="What is fetched, pinned to the commit.")
    sha256: str | None = Field(description="What the file is verified against, when known.")
    downloaded_bytes: int = Field(description="Bytes of the file written so far.")
    total_bytes: int = Field(description="Size of the file.")
    percentage: float = Field(description="0-100, one decimal.")
    speed_kbps: int = Field(description="KiB/s now (0 unless active).")
    eta_seconds: int | None = Field(description="Seconds left; null while unknown.")
    transferred_bytes: int = Field(description="Bytes received, re-transfers included.")
    range_starts: list[int] = Field(description="The offset each GET started at.")
    attempts: int = Field(description="GET requests made, retries included.")
    error: str | None = Field(description="status error: what went wrong.")
    error_code: str | None = Field(description="status error: the API error code.")
    message: str | None = Field(description="For a person, when it ended.")
    resumable: bool = Field(description="Whether starting it again resumes the partial file.")
    started_by: int = Field(description="User id of who started it.")
    owners: list[int] = Field(description="User ids who may see it.")
    created_at: float = Field(description="Unix time.")
    updated_at: float = Field(description="Unix time.")
    finished_at: float | None = Field(description="Unix time; null until it ends.")
    version: int = Field(description="Grows with every change.")

    @classmethod
    def of(cls, snapshot: dict[str, Any]) -> DownloadSnapshot:
        return cls.model_validate(snapshot)


class TaskList(BaseModel):
    tasks: list[DownloadSnapshot] = Field(description="The downloads the caller may see.")


# --- local models -------------------------------------------------------------------------


class GGUFHeader(BaseModel):
    """What the GGUF header says about a model."""

    architecture: str | None = Field(description="llama, gemma3, ...")
    parameter_count: int
    quantization: str | None = Field(description="Q4_K_M, F16, ...")
    context_length: int | None = Field(description="Trained context, in tokens.")
    model_name: str | None = Field(description="general.name.")
    size_label: str | None = Field(description="general.size_label (7B, ...).")
    gguf_version: int
    tensor_count: int


class ModelSource(Sparse):
    """Where a downloaded model came from ({} for an uploaded one)."""

    repo_id: str | None = Field(None, description="owner/repo on the hub.")
    revision: str | None = Field(None, description="The revision it was downloaded from.")
    path: str | None = Field(None, description="The file's path in the repository.")
    sha256: str | None = Field(None, description="The sha256 the file was verified against.")


class _LocalFile(BaseModel):
    name: str = Field(description="File name in the models directory.")
    path: str = Field(description="Where it lies on the server.")
    size_bytes: int
    human_size: str
    modified: str = Field(description="ISO 8601, UTC.")


SOURCE = Field(description="Provenance; null when none is recorded.")
PROTECTED = Field(description="The bundled/default model, which cannot be deleted.")


class LocalModel(GGUFHeader, _LocalFile):
    """A readable GGUF file of the models directory."""

    valid: Literal[True] = True
    source: ModelSource | None = SOURCE
    protected: bool = PROTECTED


class UnreadableModel(_LocalFile):
    """A file of the models directory whose GGUF header cannot be read."""

    architecture: None = None
    parameter_count: None = None
    quantization: None = None
    context_length: None = None
    valid: Literal[False] = False
    error: str = Field(description="Why the header cannot be read.")
    source: ModelSource | None = SOURCE
    protected: bool = PROTECTED


ListedModel: TypeAlias = LocalModel | UnreadableModel


class LocalModels(BaseModel):
    models: list[ListedModel] = Field(description="By name.")


class _Uploaded(BaseModel):
    status: Literal["success"] = "success"
    filename: str = Field(description="The (sanitised) name the model is stored under.")
    size: int = Field(description="Bytes.")
    human_size: str
    message: str = "File uploaded successfully"


class UploadResult(GGUFHeader, _Uploaded):
    """The stored model and what its header says."""


class DeleteResult(BaseModel):
    status: Literal["success"] = "success"
    message: str = "Model deleted successfully"
    name: str = Field(description="The file deleted.")
    unloaded_replicas: int = Field(description="Chat replicas that had it loaded.")


# --- compatibility ------------------------------------------------------------------------


class MemoryBreakdown(BaseModel):
    """The estimate's parts, in MiB (rounded up)."""

    weights: int
    kv_cache: int
    output: int
    compute: int
    runtime: int
    total: int


class BestGpu(BaseModel):
    name: str
    total_mb: int
    free_mb: int
    node: str | None = Field(description="Hostname of its node.")
    node_id: str | None = Field(description="Ray node id (null outside Ray).")


class CpuNode(BaseModel):
    hostname: str | None
    node_id: str | None = Field(description="Ray node id (null outside Ray).")
    ram_total_mb: int | None


class Compatibility(BaseModel):
    compatible: bool = Field(description="Fits the best GPU or, failing that, a node's RAM.")
    recommended_quantization: str | None = Field(description="Best quality that fits.")
    recommendation_source: str = Field(description="repository (its files) or estimate.")
    estimated_vram_mb: int
    available_vram_mb: int = Field(description="Free memory of the best single GPU (0: none).")
    estimated_ram_mb: int
    available_ram_mb: int = Field(description="Available RAM of the best single node.")
    backend: Literal["cuda", "cpu"] = Field(description="Where a replica would run.")
    message: str
    model: str
    quantization: str | None
    parameter_count: int
    context_tokens: int = Field(description="chat.n_slots x chat.n_ctx_per_slot.")
    breakdown_mb: MemoryBreakdown
    best_gpu: BestGpu | None
    best_cpu_node: CpuNode | None

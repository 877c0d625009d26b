"""Hub look-ups through huggingface_hub (HF_ENDPOINT / HF_TOKEN honoured), bounded in time.

One call answers every reference form: ``model_info(files_metadata=True)`` returns the
commit and every file of the repo (recursively) with its size and LFS sha256.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from lmwebui.errors import (
    AppError,
    ModelNotFound,
    PermissionDenied,
    UpstreamError,
    UpstreamTimeout,
    ValidationFailed,
)
from lmwebui.filenames import human_size
from lmwebui.models.hub_policy import HubPolicy, HubRef
from lmwebui.models.metadata import quantization_from_name, split_part
from lmwebui.models.schemas import HubFileOut, ResolveResult, SplitPart

logger = logging.getLogger("lmwebui.models.hub")

# Default pick for a bare repo: the usual quality/size sweet spot first.
PREFERRED_QUANTS = (
    "Q4_K_M",
    "Q4_K_S",
    "Q5_K_M",
    "Q4_0",
    "Q5_K_S",
    "Q6_K",
    "Q8_0",
    "IQ4_XS",
    "IQ4_NL",
    "Q3_K_M",
    "Q3_K_L",
    "Q3_K_S",
    "Q2_K",
)


@dataclass
class HubFile:
    path: str
    size: int | None
    sha256: str | None

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def quantization(self) -> str | None:
        return quantization_from_name(self.filename)

    @property
    def is_projector(self) -> bool:
        return "mmproj" in self.filename.lower()


@dataclass
class RepoListing:
    repo_id: str
    revision: str  # as asked (default branch name when none)
    commit: str | None
    files: list[HubFile] = field(default_factory=list)

    def gguf_files(self) -> list[HubFile]:
        return sorted(
            (f for f in self.files if f.path.lower().endswith(".gguf")), key=lambda f: f.path
        )

    def quantizations(self) -> dict[str, int]:
        """Quantization -> size of the (non-split, non-projector) file offering it."""
        out: dict[str, int] = {}
        for f in self.gguf_files():
            q = f.quantization
            if q and f.size and not f.is_projector and split_part(f.filename) is None:
                out.setdefault(q, f.size)
        return out


def choose_default(files: list[HubFile]) -> HubFile:
    """A sensible single file: a preferred quantization, not a projector, not a split."""
    candidates = [f for f in files if not f.is_projector and split_part(f.filename) is None]
    if not candidates:
        candidates = [f for f in files if not f.is_projector] or files
    by_quant: dict[str, HubFile] = {}
    for f in candidates:
        if f.quantization:
            by_quant.setdefault(f.quantization, f)
    for q in PREFERRED_QUANTS:
        if q in by_quant:
            return by_quant[q]
    best: HubFile = min(candidates, key=lambda f: (f.size is None, f.size or 0, f.path))
    return best


def map_hub_error(exc: BaseException, what: str) -> AppError:
    import httpx2
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(exc, GatedRepoError):
        return PermissionDenied(
            f"{what} is gated on the hub: accept its terms and set HF_TOKEN on the server"
        )
    if isinstance(exc, RepositoryNotFoundError):
        return ModelNotFound(f"{what} not found on the hub")
    if isinstance(exc, RevisionNotFoundError):
        return ModelNotFound(f"Revision of {what} not found on the hub")
    if isinstance(exc, RemoteEntryNotFoundError):
        return ModelNotFound(f"{what}: file not found on the hub")
    if isinstance(exc, httpx2.TimeoutException | asyncio.TimeoutError | TimeoutError):
        return UpstreamTimeout("The model hub did not answer in time")
    if isinstance(exc, httpx2.TransportError):
        return UpstreamError("The model hub is unreachable")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        if status == 404:
            return ModelNotFound(f"{what} not found on the hub")
        return UpstreamError(f"The model hub answered HTTP {status}")
    return UpstreamError(f"The model hub call failed: {type(exc).__name__}")


class HubClient:
    """Thin async wrapper of ``HfApi`` with an overall deadline per call."""

    def __init__(self, policy: HubPolicy, timeout_s: float) -> None:
        from huggingface_hub import HfApi

        self.policy = policy
        self.timeout_s = timeout_s
        self.api = HfApi(endpoint=policy.endpoint, library_name="lmwebui")

    async def listing(self, repo_id: str, revision: str | None) -> RepoListing:
        def call() -> Any:
            return self.api.model_info(
                repo_id, revision=revision, files_metadata=True, timeout=self.timeout_s
            )

        try:
            # the thread keeps its own timeout; this bounds connect + read + retries
            info = await asyncio.wait_for(asyncio.to_thread(call), self.timeout_s * 1.5 + 1)
        except Exception as exc:
            raise map_hub_error(exc, f"Repository '{repo_id}'") from None
        files = [
            HubFile(
                path=s.rfilename,
                size=(s.lfs.size if s.lfs else s.size),
                sha256=(s.lfs.sha256 if s.lfs else None),
            )
            for s in info.siblings or []
        ]
        return RepoListing(repo_id, revision or "main", info.sha, files)

    async def resolve(self, ref: HubRef) -> ResolveResult:
        if ref.path is not None and not ref.path.lower().endswith(".gguf"):
            raise ValidationFailed("Only .gguf files can be resolved")
        listing = await self.listing(ref.repo_id, ref.revision)
        ggufs = listing.gguf_files()
        if ref.path is not None:
            chosen = next((f for f in ggufs if f.path == ref.path), None)
            if chosen is None:
                raise ModelNotFound(f"File '{ref.path}' not found in repository '{ref.repo_id}'")
        else:
            if not ggufs:
                raise ModelNotFound(f"Repository '{ref.repo_id}' has no GGUF files")
            chosen = choose_default(ggufs)
        return ResolveResult(
            **dict(self.describe(listing, chosen)),
            default_selected=ref.path is None,
            files=[self.describe(listing, f) for f in ggufs],
            quantizations=sorted(listing.quantizations()),
        )

    def describe(self, listing: RepoListing, f: HubFile) -> HubFileOut:
        split = split_part(f.filename)
        return HubFileOut(
            repo_id=listing.repo_id,
            revision=listing.revision,
            commit=listing.commit,
            filename=f.filename,
            path=f.path,
            url=self.policy.file_url(listing.repo_id, listing.revision, f.path),
            size_bytes=f.size,
            human_size=human_size(f.size) if f.size is not None else None,
            quantization=f.quantization,
            sha256=f.sha256,
            split=SplitPart(part=split[0], of=split[1]) if split else None,
        )

    async def file(self, ref: HubRef) -> tuple[RepoListing, HubFile]:
        """The listing and the exact file a download URL names (404 when absent)."""
        assert ref.path is not None
        listing = await self.listing(ref.repo_id, ref.revision)
        for f in listing.files:
            if f.path == ref.path:
                return listing, f
        raise ModelNotFound(f"File '{ref.path}' not found in repository '{ref.repo_id}'")

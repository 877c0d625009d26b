"""Response shapes shared by several routers."""

from __future__ import annotations

from pydantic import BaseModel


class StatusMessage(BaseModel):
    """The reference's answer to a delete or logout."""

    status: str = "success"
    message: str

"""Settings of the platform layer (terraform/, charts/, argocd/addons/, platform/): SPEC §8."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PlatformConfig(BaseModel):
    """Frozen and closed like every config model; filled in by the platform work."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)

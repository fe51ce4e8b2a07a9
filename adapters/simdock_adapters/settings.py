"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a simdock deployment; names follow the seeds where they exist."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = Field("memory://", description="Metadata store (memory://, sqlite:///..)")
    artifacts_path: str = Field("./simdock-artifacts",
                                description="Directory of the local blob store")
    parameters_size_threshold: int = Field(100 * 1024, ge=0,
                                           description="Payloads above this go to the blob store")
    max_job_timeout: float = Field(3600.0, gt=0, description="Default run time limit, seconds")
    max_sweep_variants: int = Field(100_000, ge=1, le=10_000_000)
    executor_workers: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=256,
                                  description="Runs executed at once in this process")
    report_workers: int = Field(1, ge=1, le=64)
    dispatch: Literal["threads", "inline"] = "threads"
    simdock_user: str = Field("local@simdock", description="Owner of work submitted locally")
    log_level: str = "INFO"

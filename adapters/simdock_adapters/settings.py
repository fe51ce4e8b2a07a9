"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a simdock deployment; names follow the seeds where they exist."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    simdock_env: Literal["development", "testing", "production"] = Field(
        "development", description="production: never migrate, refuse a schema not at head")
    database_url: str = Field("sqlite:///./simdock.db",
                              description="Metadata store: sqlite:///PATH, postgresql://..., "
                                          "or memory://")
    database_pool_size: int = Field(10, ge=1, le=1000)
    database_max_overflow: int = Field(20, ge=0, le=1000)
    database_pool_timeout: float = Field(30.0, gt=0)
    auto_migrate: bool | None = Field(
        None, description="Upgrade the schema on start (default: yes unless production)")
    artifacts_path: str = Field("./simdock-artifacts",
                                description="Directory of the local blob store")
    parameters_size_threshold: int = Field(100 * 1024, ge=0,
                                           description="Payloads above this go to the blob store")
    max_job_timeout: float = Field(3600.0, gt=0, description="Default run time limit, seconds")
    max_sweep_variants: int = Field(100_000, ge=1, le=10_000_000)
    executor_workers: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=256,
                                  description="Runs executed at once in this process")
    report_workers: int = Field(1, ge=1, le=64)
    dispatch: Literal["threads", "inline", "database"] = Field(
        "threads", description="threads: run here in the background; inline: run at once in "
                               "the caller; database: leave queued for `simdock worker`")
    simdock_user: str = Field("local@simdock", description="Owner of work submitted locally")
    log_level: str = "INFO"

    @property
    def migrates_on_start(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.simdock_env != "production"

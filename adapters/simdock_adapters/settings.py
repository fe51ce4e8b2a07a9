"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from simdock.errors import ValidationError

DEVELOPMENT_SECRET_KEY = "simdock-development-key-not-for-production"
MIN_SECRET_KEY_LENGTH = 32


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

    secret_key: str = Field(DEVELOPMENT_SECRET_KEY, description="Signs access tokens and "
                            "download links; required (32+ characters) in production")
    access_token_expire_minutes: int = Field(60, ge=1, le=60 * 24 * 30)
    download_url_expire_seconds: int = Field(900, ge=10, le=7 * 24 * 3600)
    max_content_length: int = Field(16 * 1024 * 1024, ge=1024,
                                    description="Largest request body accepted, bytes")
    cors_origins: str = Field("*", description="Comma-separated origins allowed by CORS")
    enable_metrics: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    web_workers: int = Field(2, ge=1, le=64, description="WSGI server worker processes")
    web_threads: int = Field(8, ge=1, le=256, description="Threads per WSGI worker")
    max_open_streams: int | None = Field(
        None, ge=1, le=10_000, description="Live streams (SSE, WebSocket) per worker process "
                                           "(default: half its threads)")
    default_container_image: str = "sim:local"

    def check_for_production(self) -> None:
        """Refuse settings that are unsafe in production (a default or short SECRET_KEY)."""
        if self.simdock_env != "production":
            return
        key = self.secret_key
        if (key == DEVELOPMENT_SECRET_KEY or len(key.strip()) < MIN_SECRET_KEY_LENGTH
                or len(set(key)) < 8):
            raise ValidationError(
                f"SECRET_KEY must be set to a private value of at least {MIN_SECRET_KEY_LENGTH} "
                "characters (not blank, not one character repeated) in production")

    @property
    def migrates_on_start(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.simdock_env != "production"

"""Settings of the service and of the commands that use its database (issue 14 item 4).

Each setting comes from, first to last: the command's option, the environment variable
``VPP_<NAME>``, the settings file, the default. The settings file is TOML with the same names
(``db_url = "postgresql+psycopg://vpp@db.example/vpp"``); it is ``$VPP_SETTINGS_FILE`` or else
``vpp.toml`` in the working folder when there is one.

The database password never has to be on the command line (where ``ps`` shows it to every user):
give the URL without it and the password in ``VPP_DB_PASSWORD``, or in a file named by
``VPP_DB_PASSWORD_FILE`` (systemd ``LoadCredential=``, Docker secrets). Every setting is listed in
the README's settings table; ``tests/vpp/test_settings.py`` checks the table against this class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vpp.errors import InputError

SETTINGS_FILE_ENV = "VPP_SETTINGS_FILE"
"""Environment variable naming the settings file."""

DEFAULT_SETTINGS_FILE = Path("vpp.toml")
"""Settings file read from the working folder when ``VPP_SETTINGS_FILE`` is not set."""


class Settings(BaseSettings):
    """Everything an operator sets for ``vpp run``, ``vpp serve``, ``vpp status``, ``vpp dispatch``
    and ``vpp apikey``."""

    model_config = SettingsConfigDict(env_prefix="VPP_", extra="forbid", validate_default=True)

    db_url: str = Field("sqlite:///vpp.db", description="SQLAlchemy database URL (SQLite or PostgreSQL), "
                        "best without its password")
    db_password: SecretStr | None = Field(None, description="Database password, put into db_url when "
                                          "the URL has none")
    db_password_file: Path | None = Field(None, description="File holding the database password "
                                          "(systemd credential, Docker secret)")
    inbox: Path = Field(Path("inbox"), description="Folder where price, forecast and telemetry files arrive")
    outbox: Path = Field(Path("outbox"), description="Folder for setpoint and bid files")
    data_dir: Path = Field(Path("vpp-api"), description="API folder for portfolio bodies and bid files")
    dispatch_lead_s: float = Field(60.0, ge=0, description="Dispatch each period this long before it (s)")
    bid_lead_s: float = Field(1800.0, ge=0, description="Bid this long before the gate closure (s)")
    dispatch_time_limit_s: float | None = Field(None, gt=0, description="HiGHS time limit of a dispatch "
                                                "solve (s); none: a quarter period")
    bid_time_limit_s: float = Field(120.0, gt=0, description="HiGHS time limit of the day-ahead solve (s)")
    log_level: str = Field("WARNING", description="Logging level of vpp run and vpp serve")
    log_format: Literal["json", "text"] = Field("json", description="vpp run logs: JSON lines or text")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"unknown log level {value!r}")
        return value.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options, then the environment, then the TOML settings file."""
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, settings_file())

    def database_url(self) -> str:
        """``db_url`` with the password from ``db_password`` or ``db_password_file`` when it has none.

        Raises
        ------
        InputError
            The URL cannot be parsed, or the password file cannot be read.
        """
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.db_url)
        except ArgumentError as exc:
            raise InputError(f"db_url is not a database URL: {exc}", field="db_url") from None
        if url.password is not None:
            return self.db_url
        password = self.db_password.get_secret_value() if self.db_password is not None else None
        if password is None and self.db_password_file is not None:
            try:
                password = self.db_password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise InputError(f"cannot read the password file: {exc.strerror}", file=self.db_password_file,
                                 field="db_password_file") from None
        if password is None:
            return self.db_url
        return url.set(password=password).render_as_string(hide_password=False)


def settings_file() -> Path | None:
    """The settings file to read: ``$VPP_SETTINGS_FILE`` (must exist), else ``./vpp.toml`` if present."""
    named = os.environ.get(SETTINGS_FILE_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise InputError("settings file not found", file=path, field=SETTINGS_FILE_ENV)
        return path
    return DEFAULT_SETTINGS_FILE if DEFAULT_SETTINGS_FILE.is_file() else None


def load_settings(**options: Any) -> Settings:
    """The settings, with the command's options that were given (not None) first.

    Raises
    ------
    InputError
        A setting in the environment or the file is invalid (named), or the file is not TOML.
    """
    from pydantic import ValidationError

    given = {name: value for name, value in options.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise InputError(f"setting {name}: {first['msg']}", file=settings_file(), field=name) from None
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise InputError(f"settings file is not valid TOML: {exc}", file=settings_file()) from None


def database_url(db: str | None) -> str:
    """The database URL of a command: ``--db`` if given, else the settings', password included.

    A password written in ``--db`` works but draws a warning: the command line is visible to every
    user of the machine.
    """
    if db is not None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            has_password = make_url(db).password is not None
        except ArgumentError:
            raise InputError(f"'{db}' is not a database URL", field="--db") from None
        if has_password:
            from vpp.console import print_warning

            print_warning("a password in --db is visible to every user of this machine (ps); give the "
                          "URL without it and the password in VPP_DB_PASSWORD or VPP_DB_PASSWORD_FILE")
    return load_settings(db_url=db).database_url()

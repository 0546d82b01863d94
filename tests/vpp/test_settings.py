"""Settings from options, the environment and a settings file (issue 14 item 4)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from vpp.cli import app
from vpp.errors import InputError
from vpp.settings import Settings, database_url, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"
runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No VPP_* variable from the caller, and a working folder without vpp.toml."""
    for name in list(os.environ):
        if name.startswith("VPP_") and name != "VPP_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_then_file_then_environment_then_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().db_url == "sqlite:///vpp.db"
    (tmp_path / "vpp.toml").write_text('db_url = "sqlite:///from-file.db"\ninbox = "in"\nbid_lead_s = 900\n')
    settings = load_settings()
    assert (settings.db_url, settings.inbox, settings.bid_lead_s) == (
        "sqlite:///from-file.db",
        Path("in"),
        900.0,
    )
    monkeypatch.setenv("VPP_DB_URL", "sqlite:///from-env.db")
    assert load_settings().db_url == "sqlite:///from-env.db"
    assert load_settings().inbox == Path("in")  # the file still gives what the environment does not
    assert load_settings(db_url="sqlite:///from-option.db", inbox=None).db_url == "sqlite:///from-option.db"


def test_settings_file_named_by_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = tmp_path / "etc" / "vpp.toml"
    named.parent.mkdir()
    named.write_text('outbox = "/srv/vpp/outbox"\nlog_format = "text"\n')
    monkeypatch.setenv("VPP_SETTINGS_FILE", str(named))
    assert load_settings().outbox == Path("/srv/vpp/outbox")
    assert load_settings().log_format == "text"
    monkeypatch.setenv("VPP_SETTINGS_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(InputError, match="settings file not found"):
        load_settings()


def test_password_from_environment_or_file_never_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPP_DB_URL", "postgresql+psycopg://vpp@127.0.0.1:5432/vpp")
    assert make_url(database_url(None)).password is None
    monkeypatch.setenv("VPP_DB_PASSWORD", "s3cr:t@x")
    assert make_url(database_url(None)).password == "s3cr:t@x"  # quoted in the URL, read back whole
    monkeypatch.delenv("VPP_DB_PASSWORD")
    secret = tmp_path / "db_password"
    secret.write_text("from-file\n")
    monkeypatch.setenv("VPP_DB_PASSWORD_FILE", str(secret))
    assert make_url(database_url(None)).password == "from-file"
    assert "from-file" not in repr(load_settings())  # SecretStr / path only
    monkeypatch.setenv("VPP_DB_PASSWORD", "hidden")
    assert "hidden" not in repr(load_settings())


def test_invalid_settings_name_the_field_and_file(tmp_path: Path) -> None:
    (tmp_path / "vpp.toml").write_text("dispatch_lead_s = -5\n")
    with pytest.raises(InputError, match="dispatch_lead_s") as caught:
        load_settings()
    assert "vpp.toml" in str(caught.value)
    (tmp_path / "vpp.toml").write_text('db_ur1 = "typo"\n')
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 1
    assert "db_ur1" in result.output and "Traceback" not in result.output
    (tmp_path / "vpp.toml").write_text("db_url = \n")
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 1 and "TOML" in result.output


def test_status_reads_the_database_from_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "vpp.toml").write_text(f'db_url = "sqlite:///{tmp_path / "service.db"}"\n')
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fallback_count"] == 0
    assert (tmp_path / "service.db").is_file()


def test_password_on_the_command_line_draws_a_warning(tmp_path: Path) -> None:
    url = os.environ.get("VPP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs VPP_TEST_POSTGRES_URL (a PostgreSQL server)")
    parsed = make_url(url)
    assert parsed.password, "the test URL has a password"
    with_password = runner.invoke(app, ["status", "--json", "--db", url])
    assert with_password.exit_code == 0, with_password.output
    assert "password in --db is visible" in with_password.stderr
    env = {
        "VPP_DB_URL": parsed.set(password=None).render_as_string(hide_password=False),
        "VPP_DB_PASSWORD": parsed.password,
    }
    from_env = runner.invoke(app, ["status", "--json"], env=env)
    assert from_env.exit_code == 0, from_env.output
    assert "warning" not in from_env.stderr
    assert json.loads(from_env.stdout)["jobs"].keys() == json.loads(with_password.stdout)["jobs"].keys()


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `VPP_([A-Z_]+)` \|", text, flags=re.M))
    assert documented == {name.upper() for name in Settings.model_fields} | {"SETTINGS_FILE"}

"""Configuration fails fast with the variable's name; the CLI prints tokens and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.processes import environment, run


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://nope"),
        ("REDIS_URL", "http://not-redis"),
        ("PUBLIC_BASE_URL", "not a url"),
        ("MAX_WEBHOOK_BYTES", "-1"),
        ("SECRET_KEY", "changeme"),
        ("SLACK_API_URL", "ftp://slack"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = run(["migrate"], environment(**{variable: value}), tmp_path)
    assert result.returncode == 2
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_is_generated_once_with_a_warning(tmp_path: Path) -> None:
    env = environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}")
    del env["SECRET_KEY"]
    assert run(["migrate"], env, tmp_path).returncode == 0
    first = run(["tokens", "create"], env, tmp_path)
    assert "SECRET_KEY is not set" in first.stderr
    key_file = tmp_path / ".switchboard-secret-key"
    assert key_file.stat().st_mode & 0o077 == 0
    key = key_file.read_text()
    assert run(["tokens", "create"], env, tmp_path).returncode == 0
    assert key_file.read_text() == key


def test_tokens_create_prints_only_the_token(tmp_path: Path) -> None:
    env = environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert run(["migrate"], env, tmp_path).returncode == 0
    result = run(
        ["tokens", "create", "--scopes", "channels:read", "--expires-in", "60"], env, tmp_path
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sb_")
    bad = run(["tokens", "create", "--scopes", "channels:read,root"], env, tmp_path)
    assert bad.returncode == 2 and "root" in bad.stderr and bad.stdout == ""
    missing = run(["tokens", "create", "--instance", "inst_nope"], env, tmp_path)
    assert missing.returncode == 2 and missing.stdout == ""


def test_web_and_worker_refuse_to_start_without_redis(tmp_path: Path) -> None:
    env = environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}")
    for command in ("web", "worker", "scheduler"):
        result = run([command], env, tmp_path)
        assert result.returncode == 2
        assert "REDIS_URL" in result.stderr

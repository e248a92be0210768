"""PORT, which Procfile runners set for every process, is read only by the commands that listen."""

from __future__ import annotations

from pathlib import Path

from tests.support.processes import environment, run


def test_a_bad_port_is_named_by_the_listening_commands_only(tmp_path: Path) -> None:
    env = environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}", PORT="eighty")
    assert run(["migrate"], env, tmp_path).returncode == 0
    served = run(["serve"], env, tmp_path)
    assert served.returncode == 2
    assert "PORT" in served.stderr
    assert "Traceback" not in served.stderr

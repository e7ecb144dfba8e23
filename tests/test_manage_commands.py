"""manage.py on a database that was never migrated: a clear error instead of a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        ["createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com"],
        ["demo"],
    ],
)
def test_unmigrated_database_named(tmp_path: Path, command: list[str]):
    env = {
        **os.environ,
        # In a folder that does not exist yet, as var/ in a fresh clone.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'empty.sqlite3'}",
        "DJANGO_SUPERUSER_PASSWORD": "correct horse battery",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "The database is not migrated yet" in result.stderr
    assert "python3 run.py start" in result.stderr
    assert "Traceback" not in result.stderr

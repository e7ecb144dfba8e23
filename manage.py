#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except DatabaseError as error:
        # A missing table usually means a database that was never migrated. Only then is the
        # raw error replaced with the next step, and migrate's own failures keep their traceback.
        command = sys.argv[1] if len(sys.argv) > 1 else ""
        if command == "migrate" or not _unapplied_migrations():
            raise
        sys.exit(
            f"Error: {error}\n"
            "The database is not migrated yet. Run `manage.py migrate` with this same Python, "
            "or start Switchback with `python3 run.py start`, which migrates first."
        )


def _unapplied_migrations() -> bool:
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        # The database cannot be read at all (down, wrong URL), so the first error is re-raised.
        return False


if __name__ == "__main__":
    main()

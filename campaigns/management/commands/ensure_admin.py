"""Create the local admin login once, and print it every time."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

PASSWORD_FILE = settings.VAR_DIR / "admin-password.txt"


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a random password kept in var/ and print the login."

    def handle(self, *args, **options) -> None:
        users = get_user_model().objects
        if not users.filter(username="admin").exists():
            password = secrets.token_urlsafe(12)
            users.create_superuser("admin", "admin@example.com", password)
            PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
            PASSWORD_FILE.write_text(password)
            PASSWORD_FILE.chmod(0o600)
        password = PASSWORD_FILE.read_text().strip() if PASSWORD_FILE.exists() else "(unknown)"
        self.stdout.write(f"admin login: user 'admin', password '{password}'")

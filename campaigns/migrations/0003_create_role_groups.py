"""Create the "Agency staff" and "Marketer" groups with their model permissions.

Permissions normally appear after the last migration (post_migrate); they are created
here first so that a fresh database gets the groups filled in one migrate run.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# (app label, model, actions). Frozen here: changing a role later takes a new migration.
AGENCY_STAFF = [
    ("campaigns", "agency", ["view", "change"]),
    ("campaigns", "subaccount", ["view", "add", "change", "delete"]),
    ("campaigns", "contact", ["view", "add", "change", "delete"]),
    ("campaigns", "template", ["view", "add", "change", "delete"]),
    ("campaigns", "campaign", ["view", "add", "change", "delete"]),
    ("campaigns", "recipient", ["view"]),
    ("campaigns", "decision", ["view"]),
    ("messaging", "deliveryattempt", ["view"]),
    ("messaging", "providerevent", ["view"]),
]
MARKETER = [
    ("campaigns", "subaccount", ["view"]),
    ("campaigns", "contact", ["view", "add", "change"]),
    ("campaigns", "template", ["view"]),
    ("campaigns", "campaign", ["view", "add", "change"]),
    ("campaigns", "recipient", ["view"]),
    ("campaigns", "decision", ["view"]),
    ("messaging", "deliveryattempt", ["view"]),
]
ROLES = {"Agency staff": AGENCY_STAFF, "Marketer": MARKETER}


def create_groups(apps, schema_editor):
    for label in ("campaigns", "messaging"):
        app_config = apps.get_app_config(label)
        # Migration state app configs have no models module; create_permissions skips
        # such apps unless it is set.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, model, actions in grants:
            for action in actions:
                permission = Permission.objects.get(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                )
                group.permissions.add(permission)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_staff_and_marketers"),
        ("messaging", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]

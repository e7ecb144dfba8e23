"""Let the "Agency staff" group manage per-sub-account fallback policy overrides."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ACTIONS = ["view", "add", "change", "delete"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("messaging")
    # Migration state app configs have no models module; create_permissions skips such
    # apps unless it is set.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Agency staff")
    codenames = [f"{action}_policyoverride" for action in ACTIONS]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="messaging", codename__in=codenames)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Agency staff").first()
    if group is not None:
        codenames = [f"{action}_policyoverride" for action in ACTIONS]
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="messaging", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0009_add_sms_send_window"),
        ("messaging", "0005_add_policy_override"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

"""Give the "Agency staff" group the rate-card, API-key and outbound-webhook permissions.

Those models arrived after the roles were created; admin scoping keeps staff to their own
agency's rows.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENCY_STAFF = [
    ("reports", "whatsapprate", ["view", "add", "change", "delete"]),
    ("reports", "smsrate", ["view", "add", "change", "delete"]),
    ("campaigns", "apikey", ["view", "add", "change"]),
    ("messaging", "webhookendpoint", ["view", "add", "change", "delete"]),
    ("messaging", "webhookdelivery", ["view"]),
]


def grant(apps, schema_editor):
    for label in ("campaigns", "messaging", "reports"):
        app_config = apps.get_app_config(label)
        # Migration state app configs have no models module; create_permissions skips
        # such apps unless it is set.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Agency staff")
    for app_label, model, actions in AGENCY_STAFF:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                )
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Agency staff").first()
    if group is None:
        return
    for app_label, model, actions in AGENCY_STAFF:
        codenames = [f"{action}_{model}" for action in actions]
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_api_keys_and_contact_imports"),
        ("messaging", "0004_outbound_webhooks"),
        ("reports", "0002_add_report_cells"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

"""The two roles, as auth groups created by a data migration.

Agency staff run their agency in Django admin: users in the "Agency staff" group who are
linked to one agency through Agency.staff. Marketers compose and watch campaigns in the
browser UI: users in the "Marketer" group linked to sub-accounts through
SubAccount.marketers. What each group may do is fixed in the migration that creates it
(campaigns/migrations/0003_create_role_groups.py); a later migration adds permissions for
models added later.
"""

AGENCY_STAFF = "Agency staff"
MARKETER = "Marketer"

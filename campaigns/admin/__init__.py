"""Django admin for agency staff: every page is scoped to the staff member's agency
(see campaigns.admin_scoping)."""

from . import accounts, campaigns, contacts, jobs, templates

__all__ = ["accounts", "campaigns", "contacts", "jobs", "templates"]

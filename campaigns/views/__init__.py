"""The marketer's browser UI: server-rendered pages, with htmx for the live parts."""

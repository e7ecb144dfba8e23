"""The REST API for integrations, mounted at /api/v1/. Every request carries an API key
of one sub-account and reads and writes only that sub-account's rows."""

.PHONY: schemathesis

# Property-based run of the REST API against its OpenAPI schema, on a loopback port.
schemathesis:
	.venv/bin/python -m tests.api.schemathesis_run

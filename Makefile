PYTHON := .venv/bin/python

.PHONY: bench schemathesis

# Benchmarks run outside the test suite; results go to docs/benchmarks.md by hand.
bench:
	DJANGO_SETTINGS_MODULE=config.settings $(PYTHON) -m bench.bare_loop --seconds 10

# Property-based run of the REST API against its OpenAPI schema, on a loopback port.
schemathesis:
	$(PYTHON) -m tests.api.schemathesis_run

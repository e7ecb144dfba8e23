PYTHON := .venv/bin/python

.PHONY: bench bench-quick schemathesis

# Benchmarks a-e of docs/benchmarks.md, outside the test suite, on PostgreSQL database
# `bench` and Redis database 8 (see bench/stack.py). They print Markdown tables that are
# copied into docs/benchmarks.md by hand. About 12 minutes; bench-quick takes about 4.
bench:
	$(PYTHON) -m bench

bench-quick:
	$(PYTHON) -m bench --quick

# Property-based run of the REST API against its OpenAPI schema, on a loopback port.
schemathesis:
	$(PYTHON) -m tests.api.schemathesis_run

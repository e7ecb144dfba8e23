PYTHON := .venv/bin/python

.PHONY: bench
# Benchmarks run outside the test suite; results go to docs/benchmarks.md by hand.
bench:
	DJANGO_SETTINGS_MODULE=config.settings $(PYTHON) -m bench.bare_loop --seconds 10

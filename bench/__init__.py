"""The benchmark: `python -m bench` (or `make bench`). Not part of the test run; a smoke test runs
every scenario at a tiny size so that it keeps working."""

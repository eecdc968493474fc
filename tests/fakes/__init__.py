"""Faithful fakes of the outside world, for tests and the benchmark."""

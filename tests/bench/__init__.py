"""`python -m tests.bench` (`make bench`): the platform's throughput beside the machine's own limits.

Not collected by pytest (files are named bench_*.py); only test_bench_smoke.py is."""

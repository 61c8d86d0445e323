"""The development stack: embedded PostgreSQL, the Tansu broker, database bootstrap, migrations, and the
supervisor behind `make run` (`python -m dunning_platform.devstack run`)."""

from dunning_platform.migrations import run_alembic_env
from dunning_scheduler.adapters.orm import SCHEMA, metadata

run_alembic_env(metadata, SCHEMA, "SCHEDULER_DATABASE_URL")

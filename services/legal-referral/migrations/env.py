from dunning_legal.adapters.orm import SCHEMA, metadata
from dunning_platform.migrations import run_alembic_env

run_alembic_env(metadata, SCHEMA, "LEGAL_DATABASE_URL")

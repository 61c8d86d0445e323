from dunning_ingestion.adapters.orm import SCHEMA, metadata
from dunning_platform.migrations import run_alembic_env

run_alembic_env(metadata, SCHEMA, "INGESTION_DATABASE_URL")

from dunning_notification.adapters.orm import SCHEMA, metadata
from dunning_platform.migrations import run_alembic_env

run_alembic_env(metadata, SCHEMA, "NOTIFICATION_DATABASE_URL")

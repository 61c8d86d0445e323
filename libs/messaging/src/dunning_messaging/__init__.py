"""The Kafka runtime every service uses: outbox, inbox, consumers, DLQ."""

from dunning_messaging.consumer import Batched, ConsumerSpec, Handler, InvalidEvent
from dunning_messaging.runtime import Runtime
from dunning_messaging.tables import MessagingTables, create_consumer_epochs, create_messaging_tables, messaging_tables
from dunning_messaging.uow import UnitOfWork

__all__ = [
    "Batched",
    "ConsumerSpec",
    "Handler",
    "InvalidEvent",
    "Runtime",
    "MessagingTables",
    "create_consumer_epochs",
    "create_messaging_tables",
    "messaging_tables",
    "UnitOfWork",
]

"""The public contract of the dunning bus: topics, the CloudEvents envelope and every event's data."""

from dunning_contracts.envelope import CloudEvent, new_event
from dunning_contracts.events import EVENT_TYPES, parse_data
from dunning_contracts.topics import Topics, TOPIC_OF_TYPE, dlq_topic

__all__ = ["CloudEvent", "new_event", "EVENT_TYPES", "parse_data", "Topics", "TOPIC_OF_TYPE", "dlq_topic"]

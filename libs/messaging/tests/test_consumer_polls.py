"""How one poll's records are grouped into transactions, without a broker: one per topic, each
partition's records in their order."""

from aiokafka import ConsumerRecord, TopicPartition

from dunning_messaging.consumer import _by_topic


def _records(topic: str, partition: int, offsets: range) -> list[ConsumerRecord]:
    return [ConsumerRecord(topic, partition, offset, 0, 0, b"k", b"{}", None, 1, 2, []) for offset in offsets]


def _positions(records: list[ConsumerRecord]) -> list[tuple[int, int]]:
    return [(record.partition, record.offset) for record in records]


def test_a_polls_records_are_grouped_by_topic_with_each_partitions_order_kept():
    poll = {
        TopicPartition("overdue", 2): _records("overdue", 2, range(10, 13)),
        TopicPartition("reminders", 0): _records("reminders", 0, range(5, 7)),
        TopicPartition("overdue", 0): _records("overdue", 0, range(0, 2)),
    }

    grouped = _by_topic(poll)

    assert list(grouped) == ["overdue", "reminders"]
    assert _positions(grouped["overdue"]) == [(2, 10), (2, 11), (2, 12), (0, 0), (0, 1)]
    assert _positions(grouped["reminders"]) == [(0, 5), (0, 6)]


def test_a_poll_of_one_partition_is_that_partitions_records():
    records = _records("overdue", 1, range(3))

    assert _by_topic({TopicPartition("overdue", 1): records}) == {"overdue": records}

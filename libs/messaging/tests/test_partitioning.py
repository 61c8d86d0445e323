"""The relay places each keyed record where aiokafka's default partitioner (Kafka's murmur2) would."""

import random

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from dunning_messaging.partitioning import murmur2, partition_of

# Kafka's own test vectors (org.apache.kafka.common.utils.UtilsTest#testMurmur2), as signed 32-bit ints.
JAVA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def signed(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


def test_murmur2_gives_the_java_clients_values_on_kafkas_own_vectors():
    assert {key: signed(murmur2(key)) for key in JAVA_VECTORS} == JAVA_VECTORS


def test_murmur2_agrees_with_aiokafkas_on_keys_of_every_length_up_to_a_hundred_bytes():
    rng = random.Random(3)
    keys = [rng.randbytes(length) for length in range(101) for _ in range(20)]
    assert [murmur2(key) for key in keys] == [aiokafka_murmur2(key) for key in keys]


def test_a_loan_lands_on_the_partition_the_default_partitioner_picks_whatever_the_partition_count():
    rng = random.Random(5)
    loans = [f"loan-{rng.getrandbits(64):016x}".encode() for _ in range(500)]
    for partitions in ((0,), (0, 1, 2, 3), tuple(range(7)), tuple(range(12))):
        expected = [DefaultPartitioner()(key, list(partitions), list(partitions)) for key in loans]
        assert [partition_of(key, partitions) for key in loans] == expected

"""How /metrics merges the consumer processes' samples with the service process's own."""

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

from dunning_ingestion.worker_metrics import merged


def counter(*samples: tuple[str, float]) -> CounterMetricFamily:
    family = CounterMetricFamily("events_consumed", "Events consumed", labels=["type"])
    for type_, value in samples:
        family.add_metric([type_], value)
    return family


def lag(*samples: tuple[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily("consumer_lag", "Records behind", labels=["partition"])
    for partition, value in samples:
        family.add_metric([partition], value)
    return family


def values(family) -> dict:
    return {(s.name, *s.labels.values()): s.value for s in family.samples}


def test_counts_of_every_process_are_added_up():
    both = merged(counter(("LoanBooked", 5), ("LoanClosed", 1)), counter(("LoanBooked", 7), ("RepaymentReceived", 2)))
    assert values(both) == {
        ("events_consumed_total", "LoanBooked"): 12,
        ("events_consumed_total", "LoanClosed"): 1,
        ("events_consumed_total", "RepaymentReceived"): 2,
    }


def test_a_gauge_this_process_reports_wins_and_the_workers_fill_in_the_rest():
    both = merged(lag(("0", 3), ("1", 0)), lag(("1", 40), ("2", 8), ("3", 0)))
    assert values(both) == {("consumer_lag", "0"): 3, ("consumer_lag", "1"): 0, ("consumer_lag", "2"): 8, ("consumer_lag", "3"): 0}


def test_a_family_only_this_process_has_is_served_as_it_is():
    own = counter(("LoanBooked", 1))
    assert merged(own, None) is own

import hashlib

from dunning_legal.domain.evidence import PART_NAMES, EvidenceFile, canonical_bytes, digest


def test_the_digest_does_not_depend_on_key_order():
    assert digest({"b": 1, "a": "二"}) == digest({"a": "二", "b": 1})


def test_the_digest_is_sha256_of_the_canonical_json():
    assert digest({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()
    assert canonical_bytes({"name": "张"}) == '{"name":"张"}'.encode()


def test_a_bundle_carries_every_part_and_its_digest():
    parts = {
        "loan_snapshot": {"loan_id": "L1"},
        "overdue_history": [],
        "contact_attempts": [{"x": 1}],
        "escalation": {},
    }
    bundle = EvidenceFile(parts | {"arrangements": {"promises": []}}).as_bundle({"loan_id": "L1"})
    assert set(bundle["digests"]["parts"]) == set(PART_NAMES)
    assert bundle["digests"]["parts"]["contact_attempts"] == digest([{"x": 1}])
    assert bundle["file_digest"] == digest(bundle["digests"]["parts"])


def test_changing_one_part_changes_only_its_digest():
    parts = {"loan_snapshot": {}, "overdue_history": [], "contact_attempts": [], "escalation": {"reason": "dpd 90"}}
    before = EvidenceFile(parts).digests()
    after = EvidenceFile(parts | {"escalation": {"reason": "dpd 91"}}).digests()
    assert [name for name in before if before[name] != after[name]] == ["escalation"]


def test_a_file_without_case_events_keeps_the_digest_it_had_before_they_were_kept():
    parts = {"loan_snapshot": {"loan_id": "L1"}, "overdue_history": [], "contact_attempts": [], "escalation": {}}
    four_parts = ("loan_snapshot", "overdue_history", "contact_attempts", "escalation")
    assert EvidenceFile(parts).file_digest() == digest({name: digest(parts[name]) for name in four_parts})


def test_a_file_with_case_events_has_them_as_a_digested_part():
    parts = {"loan_snapshot": {}, "overdue_history": [], "contact_attempts": [], "escalation": {}}
    with_arrangements = EvidenceFile(parts | {"arrangements": {"promises": [{"promise_id": "P-1"}]}})
    assert with_arrangements.digests()["arrangements"] == digest({"promises": [{"promise_id": "P-1"}]})
    assert with_arrangements.file_digest() != EvidenceFile(parts).file_digest()

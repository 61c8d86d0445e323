import pytest

from dunning_legal.domain.assignment import Candidate, NoPartnerAvailable, choose_partner


def partner(partner_id, regions=("CN",), capacity=10, load=0, last=0):
    return Candidate(partner_id, frozenset(regions), capacity, load, last)


def test_a_partner_serving_the_region_comes_first_even_when_busier():
    chosen = choose_partner([partner("far", ("HK",), load=0), partner("near", ("CN-SH",), load=5)], "CN-SH")
    assert chosen.partner_id == "near"


def test_a_partner_serving_the_whole_country_serves_its_provinces():
    chosen = choose_partner([partner("hk", ("HK",)), partner("national", ("CN",), load=3)], "CN-GD")
    assert chosen.partner_id == "national"


def test_among_partners_of_the_region_the_least_loaded_wins():
    chosen = choose_partner([partner("busy", load=4), partner("quiet", load=1)], "CN")
    assert chosen.partner_id == "quiet"


def test_load_is_relative_to_capacity():
    chosen = choose_partner([partner("small", capacity=5, load=3), partner("large", capacity=50, load=10)], "CN")
    assert chosen.partner_id == "large"


def test_equally_loaded_partners_take_turns():
    a, b = partner("a", last=7), partner("b", last=3)
    assert choose_partner([a, b], "CN").partner_id == "b"
    b_after = partner("b", last=8)
    assert choose_partner([a, b_after], "CN").partner_id == "a"


def test_a_partner_that_never_had_a_referral_goes_first_among_equals():
    assert choose_partner([partner("old", last=2), partner("new", last=0)], "CN").partner_id == "new"


def test_a_full_partner_is_passed_over_for_one_with_room_elsewhere():
    full = partner("full", ("CN-SH",), capacity=2, load=2)
    elsewhere = partner("elsewhere", ("CN-BJ",), capacity=10, load=9)
    assert choose_partner([full, elsewhere], "CN-SH").partner_id == "elsewhere"


def test_when_every_partner_is_full_the_referral_still_goes_to_the_region():
    chosen = choose_partner(
        [partner("hk", ("HK",), capacity=1, load=1), partner("sh", ("CN-SH",), capacity=1, load=3)], "CN-SH"
    )
    assert chosen.partner_id == "sh"


def test_an_excluded_partner_is_never_chosen():
    chosen = choose_partner([partner("lapsed"), partner("other", ("HK",), load=9)], "CN", exclude=frozenset({"lapsed"}))
    assert chosen.partner_id == "other"


def test_no_partner_left_is_said_plainly():
    with pytest.raises(NoPartnerAvailable, match="region CN"):
        choose_partner([partner("only")], "CN", exclude=frozenset({"only"}))


def test_a_firm_of_the_province_comes_before_one_covering_the_whole_country():
    chosen = choose_partner([partner("national", ("CN",), load=0), partner("guangdong", ("CN-GD",), load=5)], "CN-GD")
    assert chosen.partner_id == "guangdong"

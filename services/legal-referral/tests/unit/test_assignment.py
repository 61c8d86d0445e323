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


def test_a_full_partner_is_passed_over_for_one_with_room_as_close_to_the_borrower():
    full = partner("full", ("CN-SH",), capacity=2, load=2)
    with_room = partner("with-room", ("CN-SH", "CN-JS"), capacity=10, load=9)
    assert choose_partner([full, with_room], "CN-SH").partner_id == "with-room"


def test_a_partner_with_no_capacity_at_all_comes_after_one_with_room_as_close():
    closed = partner("closed", ("CN",), capacity=0, load=0)
    assert choose_partner([closed, partner("open", ("CN",), load=3)], "CN").partner_id == "open"


FULL_IN_PROVINCE = partner("full-sh", ("CN-SH",), capacity=2, load=2)
FREE_IN_COUNTRY = partner("free-cn", ("CN",), capacity=10, load=0)
FREE_IN_ANOTHER_PROVINCE = partner("free-bj", ("CN-BJ",), capacity=10, load=0)
FREE_ABROAD = [partner("free-hk", ("HK", "MO"), capacity=10, load=0), partner("free-us", ("US",), load=0)]


def test_a_full_firm_of_the_province_comes_before_a_free_one_abroad():
    assert choose_partner([*FREE_ABROAD, FULL_IN_PROVINCE], "CN-SH").partner_id == "full-sh"


def test_a_full_firm_of_the_province_comes_before_a_free_one_of_the_whole_country():
    assert choose_partner([FREE_IN_COUNTRY, FULL_IN_PROVINCE, *FREE_ABROAD], "CN-SH").partner_id == "full-sh"


def test_a_full_firm_of_the_province_comes_before_a_free_one_of_another_province():
    assert choose_partner([FREE_IN_ANOTHER_PROVINCE, FULL_IN_PROVINCE], "CN-SH").partner_id == "full-sh"


def test_a_full_firm_of_the_whole_country_comes_before_a_free_one_abroad():
    full_national = partner("full-cn", ("CN",), capacity=5, load=7)
    assert choose_partner([*FREE_ABROAD, full_national], "CN-SH").partner_id == "full-cn"


def test_a_full_firm_of_another_province_still_comes_before_a_free_one_abroad():
    full_bj = partner("full-bj", ("CN-BJ",), capacity=1, load=1)
    assert choose_partner([*FREE_ABROAD, full_bj], "CN-SH").partner_id == "full-bj"


def test_a_firm_of_another_province_comes_before_one_abroad_for_a_borrower_of_the_whole_country():
    assert choose_partner([*FREE_ABROAD, partner("gd", ("CN-GD",), load=8)], "CN").partner_id == "gd"


def test_a_firm_abroad_takes_the_referral_only_when_no_firm_of_the_country_is_left():
    chosen = choose_partner([*FREE_ABROAD, FULL_IN_PROVINCE], "CN-SH", exclude=frozenset({"full-sh"}))
    assert chosen.partner_id == "free-hk"


def test_full_firms_of_the_province_take_turns_when_equally_loaded():
    a = partner("a", ("CN-SH",), capacity=2, load=2, last=9)
    b = partner("b", ("CN-SH",), capacity=2, load=2, last=4)
    assert choose_partner([a, b, FREE_IN_COUNTRY], "CN-SH").partner_id == "b"
    assert choose_partner([a, partner("b", ("CN-SH",), capacity=2, load=2, last=10)], "CN-SH").partner_id == "a"


def test_equally_close_and_equally_loaded_partners_with_the_same_turn_are_ordered_by_id():
    assert choose_partner([partner("zeta"), partner("alpha")], "CN").partner_id == "alpha"


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

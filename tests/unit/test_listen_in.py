"""What each supervision mode asks ChanSpy to do."""

from ivr.listen_in.service import chanspy_data


def test_listen_is_silent_and_ends_with_the_call():
    assert chanspy_data("1001", "listen") == "PJSIP/1001-,qES"


def test_whisper_reaches_only_the_operator_and_barge_reaches_both():
    assert chanspy_data("1001", "whisper").endswith(",qESw")
    assert chanspy_data("1001", "barge").endswith(",qESB")


def test_the_target_is_exactly_that_seat():
    # the trailing dash keeps seat 1001 from matching seat 10011's channels
    assert chanspy_data("1001", "listen").startswith("PJSIP/1001-,")

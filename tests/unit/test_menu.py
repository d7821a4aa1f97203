"""The main menu's call flow, branch by branch, without Asterisk."""

from dataclasses import replace

import pytest

from ivr.menu.config import default_tree
from ivr.menu.flow import Ask, Finish, LookupTicket, MainMenu, TicketStatus

OPERATOR = Finish("queue", ("to_operator",), queue="hotline")


def drive(menu: MainMenu, *keys: str):
    step = menu.start()
    for key in keys:
        assert isinstance(step, Ask), f"menu finished early with {step}"
        step = menu.on_keys(key)
    return step


def test_welcome_then_menu_one_key():
    step = MainMenu().start()
    assert step == Ask(("welcome", "main_menu"), 1, 6000)


@pytest.mark.parametrize("key, kind", [("1", "consultation"), ("2", "complaint"),
                                       ("3", "help"), ("4", "suggestion")])
def test_request_kinds_go_to_the_queue_with_their_kind(key, kind):
    menu = MainMenu()
    step = drive(menu, key)
    assert step == Finish("queue", (f"ack_{kind}", "to_operator"), request_kind=kind,
                           queue="hotline")
    assert menu.path == [kind]


def test_zero_is_the_operator():
    menu = MainMenu()
    assert drive(menu, "0") == OPERATOR
    assert menu.path == ["operator"]


def test_nine_repeats_the_menu_without_counting_as_failure():
    menu = MainMenu()
    step = drive(menu, "7", "7", "9")  # two failures, then repeat resets the count
    assert step == Ask(("main_menu",), 1, 6000)
    step = drive_more(menu, "7", "7")
    assert isinstance(step, Ask), "two failures after a repeat must still replay"
    assert menu.path == ["invalid:7", "invalid:7", "repeat", "invalid:7", "invalid:7"]


def drive_more(menu: MainMenu, *keys: str):
    step = None
    for key in keys:
        step = menu.on_keys(key)
    return step


def test_three_invalid_keys_reach_an_operator():
    menu = MainMenu()
    first = drive(menu, "7")
    assert first == Ask(("invalid_choice", "main_menu"), 1, 6000)
    second = menu.on_keys("#")
    assert second == Ask(("invalid_choice", "main_menu"), 1, 6000)
    assert menu.on_keys("6") == OPERATOR
    assert menu.path == ["invalid:7", "invalid:#", "invalid:6"]


def test_silence_replays_twice_then_operator():
    menu = MainMenu()
    assert drive(menu, "") == Ask(("no_input", "main_menu"), 1, 6000)
    assert menu.on_keys("") == Ask(("no_input", "main_menu"), 1, 6000)
    assert menu.on_keys("") == OPERATOR
    assert menu.path == ["timeout", "timeout", "timeout"]


def test_mixed_silence_and_garbage_count_together():
    menu = MainMenu()
    assert drive(menu, "", "*", "") == OPERATOR


def test_progress_asks_for_a_ticket_number_and_looks_it_up():
    menu = MainMenu()
    step = drive(menu, "5")
    assert step == Ask(("ticket_number_prompt",), 20, 8000)
    assert menu.on_keys("20261121001#") == LookupTicket("20261121001")
    step = menu.on_ticket_status(TicketStatus("20261121001", "ticket_status_processing"))
    assert isinstance(step, Ask)
    assert step.prompts[0] == "ticket_status_intro"
    assert step.prompts[1:-2] == tuple(f"digit_{d}" for d in "20261121001")
    assert step.prompts[-2:] == ("ticket_status_processing", "main_menu")
    assert menu.path == ["progress", "ticket:20261121001"]
    assert menu.on_keys("0") == OPERATOR


def test_unknown_ticket_says_not_found_and_returns_to_the_menu():
    menu = MainMenu()
    drive(menu, "5", "123")
    assert menu.on_ticket_status(None) == Ask(("ticket_not_found", "main_menu"), 1, 6000)


def test_failed_lookup_is_said_and_the_caller_keeps_going():
    menu = MainMenu()
    drive(menu, "5", "123")
    step = menu.on_ticket_status(None, failed=True)
    assert step == Ask(("ticket_lookup_failed", "main_menu"), 1, 6000)


def test_no_ticket_number_keyed_counts_as_a_failure():
    menu = MainMenu()
    assert drive(menu, "5", "") == Ask(("no_input", "main_menu"), 1, 6000)
    assert menu.on_keys("*") == Ask(("invalid_choice", "main_menu"), 1, 6000)
    assert menu.on_keys("") == OPERATOR


@pytest.mark.parametrize("key, number", [("1", "110"), ("2", "119"), ("3", "120"),
                                         ("4", "122")])
def test_emergency_transfers_to_the_right_number(key, number):
    menu = MainMenu()
    assert drive(menu, "8") == Ask(("emergency_menu",), 1, 6000)
    step = menu.on_keys(key)
    assert step == Finish("emergency", ("emergency_connecting",), emergency_number=number)
    assert menu.path == ["emergency", f"emergency:{number}"]


def test_emergency_star_goes_back_to_the_main_menu():
    menu = MainMenu()
    assert drive(menu, "8", "*") == Ask(("main_menu",), 1, 6000)
    assert menu.on_keys("3") == Finish("queue", ("ack_help", "to_operator"), request_kind="help",
                                       queue="hotline")


def test_fumbling_in_an_emergency_reaches_an_operator_after_one_replay():
    menu = MainMenu()
    assert drive(menu, "8", "9") == Ask(("invalid_choice", "emergency_menu"), 1, 6000)
    assert menu.on_keys("") == OPERATOR


def test_endless_repeating_is_bounded():
    menu = MainMenu(replace(default_tree(), max_plays=4))
    step = menu.start()
    for _ in range(3):
        step = menu.on_keys("9")
    assert isinstance(step, Ask)
    assert menu.on_keys("9") == OPERATOR
    assert menu.path[-1] == "menu_limit"


def test_keys_after_the_menu_finished_are_a_programming_error():
    menu = MainMenu()
    drive(menu, "0")
    with pytest.raises(RuntimeError):
        menu.on_keys("1")


def test_a_spoken_choice_counts_like_its_key_and_an_unknown_one_like_a_wrong_key():
    menu = MainMenu()
    first = menu.start()
    assert first.spoken
    again = menu.on_said(None)  # said something that is no menu phrase
    assert again.prompts == ("invalid_choice", "main_menu") and again.spoken
    assert menu.key_said("我 要  投诉") == "2" and menu.key_said("天气") is None
    done = menu.on_said(menu.key_said("投诉"))
    assert isinstance(done, Finish) and done.request_kind == "complaint"
    assert menu.path == ["invalid:speech", "complaint"]


def test_the_default_menus_phrases_are_the_speech_grammar():
    phrases = default_tree().phrases()
    assert "转 人工" in phrases and "查 进度" in phrases
    assert len(phrases) == len(set(phrases))
    emergency = default_tree().nodes["emergency"]
    assert not emergency.spoken  # an emergency is keyed, never guessed from speech

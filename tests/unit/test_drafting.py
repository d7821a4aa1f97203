"""The ticket draft and the spoken intent from fixed Mandarin transcripts."""

import pytest

from tickets.drafting import caller_sentences, draft, intent_of


@pytest.mark.parametrize(("said", "kind"), [
    ("我要投诉小区物业乱收费", "complaint"),
    ("我想举报一家饭店偷排油烟", "report"),
    ("请问居住证怎么办理，需要什么材料", "consultation"),
    ("我家老人走失了，请帮帮我", "help"),
    ("我有个建议，希望能在路口增设红绿灯", "suggestion"),
    ("我要表扬城管的王师傅", "praise"),
    ("楼下烧烤店晚上噪音扰民", "complaint"),  # no kind word: the complaint is in the words
    ("我不是投诉，就是咨询一下公积金怎么提取", "consultation"),  # negated
    ("举报，还有我也要投诉他们", "report"),  # the first explicit word wins
    ("今天天气不错", None),
])
def test_the_kind_of_a_request(said, kind):
    assert intent_of(said, ("consultation", "help", "complaint", "report", "suggestion",
                            "praise")) == kind


@pytest.mark.parametrize(("said", "intent"), [
    ("我想查一下进度", "progress"),
    ("我上周反映的事办到哪了", "progress"),
    ("转人工", "operator"),
    ("我要人工服务", "operator"),
    ("我要投诉", "complaint"),
    ("嗯嗯", None),
])
def test_what_the_menu_hears(said, intent):
    assert intent_of(said, ("progress", "operator", "complaint", "consultation")) == intent


TRANSCRIPT = """[00:02] 话务员：您好，12345热线，请讲
[00:04] 市民：喂，你好
[00:06] 市民：我要投诉，我们小区物业乱收费
[00:11] 话务员：好的，请问您的小区叫什么
[00:13] 市民：幸福家园三期"""


def test_the_draft_is_what_the_citizen_said_without_greetings():
    assert caller_sentences(TRANSCRIPT) == ["喂，你好", "我要投诉，我们小区物业乱收费",
                                            "幸福家园三期"]
    assert draft(TRANSCRIPT) == {"kind": "complaint",
                                 "content": "我要投诉，我们小区物业乱收费，幸福家园三期。"}


def test_a_draft_of_nothing_said():
    assert draft("[00:02] 话务员：您好，12345热线，请讲") == {"kind": None, "content": ""}
    assert draft("") == {"kind": None, "content": ""}

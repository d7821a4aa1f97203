"""The report's hot words from fixed Mandarin transcripts (real jieba)."""

from tickets.hot_words import hot_words

CALLS = [
    "[00:03] 市民：我要投诉，小区门口的垃圾没人清运\n[00:09] 话务员：好的，垃圾多久没清运了",
    "[00:02] 市民：你好，我们这里垃圾堆了三天，味道很大",
    "[00:05] 市民：楼下广场舞噪音太大，晚上十点还在跳",
    "请问垃圾分类的时间是几点",  # a transcript typed in by hand, without sides
]


def test_the_words_citizens_said_most_come_first_without_the_stop_words():
    words = dict(hot_words(CALLS))
    assert next(iter(dict(hot_words(CALLS)))) == "垃圾"
    assert words["垃圾"] == 2  # jieba reads 垃圾堆 as a word of its own
    assert words["清运"] == 1  # the operator's repeat is not counted
    for common in ("我们", "你好", "投诉", "请问", "这里"):
        assert common not in words
    assert "噪音" in words


def test_no_transcripts_no_words():
    assert hot_words([]) == []
    assert hot_words(["", "[00:01] 话务员：您好"]) == []

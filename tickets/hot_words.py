"""The words citizens used most in a period's calls, for the report's hot spots (热点):
the citizen's side of each ticket's transcript, segmented into words by jieba, with the
words every call has (greetings, pronouns, the hotline's own) left out. Blocking (jieba
loads its dictionary on first use): call it in a worker."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import jieba

from tickets.drafting import caller_sentences

jieba.setLogLevel(60)  # its "Building prefix dict" chatter is not for the service's log

# Words with no topic in them: function words, greetings, the call's own vocabulary.
_STOP_WORDS_TEXT = """
我们 你们 他们 她们 它们 自己 这个 那个 这些 那些 这里 那里 这样 那样 什么 怎么 怎么样
为什么 哪里 一下 一个 一些 有点 还是 就是 但是 因为 所以 如果 然后 而且 或者 已经 现在
时候 今天 昨天 明天 可以 需要 应该 能够 没有 不是 知道 觉得 希望 问题 情况 事情 反映
你好 您好 谢谢 感谢 麻烦 请问 喂喂 好的 对的 是的 不好意思 一直 还有 的话 一样 非常
热线 电话 工单 市民 话务员 投诉 咨询 举报 求助 建议 表扬 我要 我想 想要
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$")  # Chinese words of two characters or more


def hot_words(transcripts: Iterable[str], top: int = 20) -> list[tuple[str, int]]:
    """The `top` words of the citizens' sentences, most said first (ties by word)."""
    counts: Counter[str] = Counter()
    for transcript in transcripts:
        for sentence in caller_sentences(transcript):
            counts.update(w for w in jieba.lcut(sentence)
                          if _WORD.match(w) and w not in STOP_WORDS)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]

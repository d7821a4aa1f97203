"""What a citizen wants, from the words of their call (Mandarin rules, no model): the
ticket draft's kind and content, and the menu's spoken choices (进度 = a ticket's
progress, 人工 = an operator). Pure: tested with fixed transcripts.

An explicit word for a kind (投诉, 举报, 咨询, 求助, 建议, 表扬) wins over a phrase that
only suggests one, the first explicit word said wins over later ones, and a word after a
negation ("不是投诉") does not count. The content is what the citizen said, with the
hotline's greetings and fillers taken out; the operator corrects both.
"""

from __future__ import annotations

import re

# Explicit words, and phrases that suggest the kind, per kind (codes of tickets/codes.py)
# and the two menu intents.
EXPLICIT: dict[str, tuple[str, ...]] = {
    "report": ("举报", "检举", "揭发"),
    "complaint": ("投诉",),
    "help": ("求助", "救助"),
    "suggestion": ("建议", "提个意见", "提意见"),
    "praise": ("表扬", "点赞", "送锦旗"),
    "consultation": ("咨询",),
    "progress": ("查进度", "查询进度", "办理进度", "进度"),
    "operator": ("转人工", "人工服务", "人工", "接线员"),
}
SUGGESTIVE: dict[str, tuple[str, ...]] = {
    "report": ("偷排", "违法", "非法", "无证经营", "私搭乱建", "违建"),
    "complaint": ("乱收费", "不作为", "态度很差", "态度恶劣", "噪音", "扰民", "拖欠工资",
                  "没人管", "不处理"),
    "help": ("帮帮", "救命", "被困", "困难", "走失", "停水", "停电"),
    "suggestion": ("希望能", "能不能增加", "最好能", "应该增设"),
    "consultation": ("请问", "怎么办理", "如何办理", "需要什么材料", "在哪里办", "怎么申请",
                     "什么时候", "多少钱"),
    "progress": ("办到哪", "处理得怎么样", "有没有结果", "工单号"),
}
TICKET_KINDS = ("consultation", "help", "complaint", "report", "suggestion", "praise")
_NEGATED = re.compile(r"(不是|不要|不想|没有|并非)$")
_FILLERS = re.compile(r"^(喂+|你好+|您好+|嗯+|啊+|呃+|那个|就是|是这样的?)[，,。 ]*")
_LINE = re.compile(r"^\[\d{2}:\d{2}\] (市民|话务员)：(.*)$")


def _said(text: str, phrase: str) -> int | None:
    """Where `phrase` is first said un-negated in `text`, if it is."""
    for match in re.finditer(re.escape(phrase), text):
        if not _NEGATED.search(text[max(0, match.start() - 2):match.start()]):
            return match.start()
    return None


def intent_of(text: str, among: tuple[str, ...] | None = None) -> str | None:
    """The kind (or menu intent) `text` asks for, among `among` (default: all)."""
    kinds = among or tuple(EXPLICIT)
    for table in (EXPLICIT, SUGGESTIVE):
        found = [(at, kind) for kind in kinds for phrase in table.get(kind, ())
                 if (at := _said(text, phrase)) is not None]
        if found:
            return min(found)[1]
    return None


def caller_sentences(transcript: str) -> list[str]:
    """The citizen's sentences of a transcript's text form (`[00:03] 市民：…` lines); a
    text without that form is taken as the citizen's words as it is."""
    lines = [m.groups() for m in map(_LINE.match, transcript.splitlines()) if m]
    if not lines:
        return [transcript.strip()] if transcript.strip() else []
    return [said.strip() for who, said in lines if who == "市民" and said.strip()]


def _without_fillers(sentence: str) -> str:
    while (shorter := _FILLERS.sub("", sentence, count=1).strip()) != sentence:
        sentence = shorter
    return sentence


def draft(transcript: str) -> dict[str, str | None]:
    """The ticket draft from a call's transcript: {"kind", "content"} (kind None when the
    words do not say)."""
    return draft_of(caller_sentences(transcript))


def draft_of(said: list[str]) -> dict[str, str | None]:
    """The ticket draft from the citizen's sentences, in order."""
    sentences = [_without_fillers(s) for s in said]
    sentences = [s.rstrip("，,。.") for s in sentences if s]
    content = "，".join(sentences) + "。" if sentences else ""
    return {"kind": intent_of(content, TICKET_KINDS), "content": content}

"""What an Asterisk made of a dialplan, read from its own words: `dialplan show` (every
context, every priority with its application and its file:line), `core show applications`
and its log. Asterisk has no syntax check: it skips a bad line with a warning and prints
"Dialplan reloaded." regardless, so this is how a staged dialplan is judged (by a scratch
instance) and how a reloaded live one is verified. Pure: text in, findings out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The contexts the hotline's calls pass through: a dialplan without one of them would
# drop the callers who need it.
REQUIRED_CONTEXTS = ("hotline-inbound", "hotline-ivr", "hotline-queue", "hotline-queue-exit",
                     "hotline-callback", "hotline-message", "hotline-emergency", "hotline-unit",
                     "hotline-transfer", "hotline-seat")

_CONTEXT = re.compile(r"^\[ Context '([^']+)' created by")
_PRIORITY = re.compile(r"\b\d+\.\s+(?P<app>[A-Za-z_][\w]*)?\((?P<args>.*)\)\s+"
                       r"\[(?P<file>[^\]:]+):(?P<line>\d+)\]\s*$")
_APPLICATION = re.compile(r"^\s*([A-Za-z_]\w*): ")
_LOG_LINE = re.compile(r"\] (?P<level>WARNING|ERROR)\[\d+\] (?P<source>[\w./-]+): "
                       r"(?P<message>.*)$")
_AT_LINE = re.compile(r"(?:at )?line (?P<line>\d+) of (?P<path>\S+)")
_QUOTED = re.compile(r"'([^']+)'")
# Sources whose warnings are about the configuration files, not the machine.
_CONFIG_SOURCES = ("config.c", "pbx_config.c", "pbx.c")


@dataclass(frozen=True)
class Priority:
    context: str
    app: str
    file: str  # the configuration file's name, as Asterisk read it
    line: int


@dataclass(frozen=True)
class Complaint:
    """Something Asterisk found wrong, at a file it read (by name) and a line (0: unknown)."""

    file: str
    line: int
    message: str


def judge(dialplan_show: str, core_show_applications: str, log_text: str,
          texts: Mapping[str, str]) -> list[Complaint]:
    """Everything wrong with what an Asterisk loaded (a scratch instance, or the live one
    after a reload): its log's complaints about the files `texts`, applications it lacks,
    the hotline's contexts missing."""
    contexts, priorities = contexts_and_priorities(dialplan_show)
    return [*log_complaints(log_text, texts),
            *unknown_applications(priorities, applications(core_show_applications)),
            *missing_contexts(contexts)]


def contexts_and_priorities(dialplan_show: str) -> tuple[set[str], list[Priority]]:
    contexts, priorities = set(), []
    context = ""
    for line in dialplan_show.splitlines():
        header = _CONTEXT.match(line)
        if header:
            context = header.group(1)
            contexts.add(context)
            continue
        priority = _PRIORITY.search(line)
        if priority and context:
            priorities.append(Priority(context, priority.group("app") or "",
                                       priority.group("file"), int(priority.group("line"))))
    return contexts, priorities


def applications(core_show_applications: str) -> set[str]:
    return {m.group(1).lower() for line in core_show_applications.splitlines()
            if (m := _APPLICATION.match(line))}


def unknown_applications(priorities: list[Priority], known: set[str]) -> list[Complaint]:
    return [Complaint(p.file, p.line,
                      f"Asterisk 中没有应用 {p.app!r} — 请检查拼写，或加载提供它的模块"
                      if p.app else "这一步没有写应用 — 请写上一个，例如 NoOp()")
            for p in priorities if p.app.lower() not in known]


def missing_contexts(contexts: set[str]) -> list[Complaint]:
    return [Complaint("extensions.conf", 0, f"缺少上下文 {name!r} — 热线的来电需要它，"
                                            "请恢复")
            for name in REQUIRED_CONTEXTS if name not in contexts]


def log_complaints(log_text: str, texts: Mapping[str, str]) -> list[Complaint]:
    """The warnings and errors about configuration in an Asterisk log, each at its file
    and line: Asterisk names them for a syntax error ("line 4 of /…/extensions_x.conf");
    for others (an include of a context that does not exist) the line is found by the
    quoted name it mentions, in the files `texts` (name → text)."""
    found: list[Complaint] = []
    for raw in log_text.splitlines():
        entry = _LOG_LINE.search(raw)
        if entry is None:
            continue
        message = entry.group("message").replace("==!!== ", "").replace(" -- IGNORING!!!", "")
        at = _AT_LINE.search(message)
        if at:
            text = _AT_LINE.sub("", message).rstrip(" ,:")
            found.append(Complaint(Path(at.group("path")).name, int(at.group("line")),
                                   f"Asterisk：{text} — 请修正这一行（Asterisk 会跳过它）"))
        elif entry.group("source") in _CONFIG_SOURCES:
            found.append(_located(f"Asterisk：{message} — 请修正这一行", texts))
    return list(dict.fromkeys(found))  # a reload repeats the load's warnings


def _located(message: str, texts: Mapping[str, str]) -> Complaint:
    for name in _QUOTED.findall(message)[::-1]:  # the last quoted name is the culprit
        for file, text in texts.items():
            for number, line in enumerate(text.splitlines(), start=1):
                if name in line and not line.lstrip().startswith(";"):
                    return Complaint(file, number, message)
    return Complaint("extensions.conf", 0, message)

"""The voice menu as configuration (ivr/menu/menu.toml, an admin's copy under
$HOTLINE_HOME/conf/): nodes, their prompts and keys, and where each key leads. Pure: a
parsed TOML document in, a MenuTree and the problems found out.

Each problem names where it is as a TOML path (("nodes", "main", "keys", "1")), which the
config slice (ivr/conf/) turns into the file's line; the checks that need the outside
world (prompts, queues, units, the speech model's lexicon) take what they know as
arguments (ivr/menu/checks.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_PATH_NAME = "menu.toml"
EMERGENCY_NUMBERS = ("110", "119", "120", "122")
DestinationKind = Literal["menu", "back", "repeat", "queue", "unit", "emergency", "lookup",
                          "message"]
# The keys that name a destination, and the type of value each takes.
DESTINATIONS: dict[str, type] = {"menu": str, "back": bool, "repeat": bool, "queue": str,
                                 "unit": str, "emergency": str, "lookup": str,
                                 "message": bool}
KEYPAD = frozenset("0123456789*#")
LOOKUPS = ("ticket",)
Where = tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    where: Where
    message: str  # "what is wrong — how to fix it", in Chinese: the admin reads it


@dataclass(frozen=True)
class Destination:
    kind: DestinationKind
    target: str = ""  # the node, queue, unit code, emergency number or lookup
    request_kind: str | None = None  # queue: the kind of request, for the screen pop
    say: tuple[str, ...] = ()  # prompts before the caller leaves the menu
    phrases: tuple[str, ...] = ()  # what may be said instead of the key

    @property
    def label(self) -> str:
        """How the choice is written in the call record's ivr_path."""
        if self.kind == "queue":
            return self.request_kind or "operator"
        if self.kind == "lookup":
            return "progress"
        if self.kind == "menu":
            return self.target
        if self.kind in ("emergency", "unit"):
            return f"{self.kind}:{self.target}"
        return self.kind  # back, repeat, message

    @property
    def reaches_a_person(self) -> bool:
        return self.kind in ("queue", "unit", "emergency", "message")


@dataclass(frozen=True)
class Node:
    name: str
    prompts: tuple[str, ...]
    keys: Mapping[str, Destination]
    max_failures: int = 3
    timeout_ms: int = 6000

    @property
    def spoken(self) -> bool:
        return any(d.phrases for d in self.keys.values())

    def key_said(self, heard: str) -> str | None:
        """The key a recognised phrase stands for in this node; None for anything else."""
        said = " ".join(heard.split())
        for key, destination in self.keys.items():
            if said in (" ".join(p.split()) for p in destination.phrases):
                return key
        return None


@dataclass(frozen=True)
class MenuTree:
    start: str
    nodes: Mapping[str, Node]
    welcome: tuple[str, ...] = ("welcome",)
    operator: str = "hotline"  # the queue a caller who fails the menu goes to
    max_plays: int = 8
    ticket_digits: int = 20
    ticket_timeout_ms: int = 8000
    prompt_texts: Mapping[str, str] = field(default_factory=dict)  # the file's [prompts]

    def phrases(self) -> list[str]:
        """Every phrase of every node, once, in the file's order: the speech grammar."""
        return list(dict.fromkeys(p for node in self.nodes.values()
                                  for d in node.keys.values() for p in d.phrases))

    def prompt_ids(self) -> list[tuple[Where, str]]:
        """Every prompt the menu plays, with where it is named."""
        named: list[tuple[Where, str]] = [(("welcome",), p) for p in self.welcome]
        for node in self.nodes.values():
            named += [(("nodes", node.name, "prompts"), p) for p in node.prompts]
            for key, d in node.keys.items():
                named += [(("nodes", node.name, "keys", key), p) for p in d.say]
        return named


def parse_tree(document: Mapping[str, Any]) -> tuple[MenuTree | None, list[Problem]]:
    """The tree, or None when it is too broken to run, and every problem found in its
    shape (the structural checks: ivr/menu/checks.py)."""
    problems: list[Problem] = []
    nodes: dict[str, Node] = {}
    raw_nodes = document.get("nodes")
    if not isinstance(raw_nodes, Mapping) or not raw_nodes:
        return None, [Problem(("nodes",), "菜单没有任何节点 — 请添加一个，例如 [nodes.main]，"
                                          "写上 prompts 和 [nodes.main.keys]")]
    for name, raw in raw_nodes.items():
        node = _node(name, raw, problems)
        if node is not None:
            nodes[name] = node
    start = _text(document, "start", "main", (), problems)
    if start not in raw_nodes:
        problems.append(Problem(("start",), f"start = {start!r} 不是任何节点 — 请改为其中之一："
                                            f"{_names(raw_nodes)}"))
    prompt_texts = document.get("prompts", {})
    if not isinstance(prompt_texts, Mapping) or not all(
            isinstance(v, str) and v.strip() for v in prompt_texts.values()):
        problems.append(Problem(("prompts",), "[prompts] 应写成 提示音编号 = \"文字\" — "
                                              "请给每个提示音写上普通话文字"))
        prompt_texts = {}
    tree = MenuTree(
        start=start, nodes=nodes,
        welcome=_prompts(document, "welcome", ("welcome",), (), problems),
        operator=_text(document, "operator", "hotline", (), problems),
        max_plays=_number(document, "max_plays", 8, (), problems),
        ticket_digits=_number(document, "ticket_digits", 20, (), problems),
        ticket_timeout_ms=_number(document, "ticket_timeout_seconds", 8, (), problems) * 1000,
        prompt_texts=dict(prompt_texts))
    broken = start not in nodes or len(nodes) != len(raw_nodes)
    return (None if broken else tree), problems


def _node(name: str, raw: Any, problems: list[Problem]) -> Node | None:
    where: Where = ("nodes", name)
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, f"节点 {name!r} 必须是一个表 — 请按 [nodes.{name}] "
                                       "的写法书写"))
        return None
    keys: dict[str, Destination] = {}
    raw_keys = raw.get("keys")
    if not isinstance(raw_keys, Mapping) or not raw_keys:
        problems.append(Problem(where, f"节点 {name!r} 没有按键 — 请添加 [nodes.{name}.keys]，"
                                       "至少一个按键"))
        raw_keys = {}
    for key, value in raw_keys.items():
        destination = _destination((*where, "keys", key), key, value, problems)
        if destination is not None:
            keys[key] = destination
    prompts = _prompts(raw, "prompts", (), where, problems)
    if not prompts and "prompts" not in raw:
        problems.append(Problem(where, f"节点 {name!r} 没有提示音 — 请用 prompts = [\"...\"] "
                                       "告诉来电人各按键的用途"))
    return Node(name, prompts, keys,
                max_failures=_number(raw, "max_failures", 3, where, problems),
                timeout_ms=_number(raw, "timeout_seconds", 6, where, problems) * 1000)


def _destination(where: Where, key: str, value: Any,
                 problems: list[Problem]) -> Destination | None:
    if key not in KEYPAD:
        problems.append(Problem(where, f"{key!r} 不是电话上的按键 — 请使用 0-9、* 或 #"))
        return None
    if not isinstance(value, Mapping):
        problems.append(Problem(where, f"按键 {key} 需要一个去向 — 例如 "
                                       f"\"{key}\" = {{ queue = \"hotline\" }}"))
        return None
    named = [name for name in DESTINATIONS if name in value]
    if not named:
        problems.append(Problem(where, f"按键 {key} 没有去向 — 请给它以下之一："
                                       f"{'、'.join(DESTINATIONS)}"))
        return None
    if len(named) > 1:
        problems.append(Problem(where, f"按键 {key} 有两个去向（{'、'.join(named)}） — "
                                       "只保留一个"))
        return None
    kind = named[0]
    target = value[kind]
    if not isinstance(target, DESTINATIONS[kind]) or target in ("", False):
        wanted = "true" if DESTINATIONS[kind] is bool else "\"名称\""
        problems.append(Problem(where, f"按键 {key}：{kind} = {target!r} 写法不对 — 请写成 "
                                       f"{kind} = {wanted}"))
        return None
    if kind == "emergency" and target not in EMERGENCY_NUMBERS:
        problems.append(Problem(where, f"按键 {key}：{target!r} 不是紧急号码 — 请使用 "
                                       f"{'、'.join(EMERGENCY_NUMBERS)} 之一"))
        return None
    if kind == "lookup" and target not in LOOKUPS:
        problems.append(Problem(where, f"按键 {key}：lookup = {target!r} 无法识别 — 请写成 "
                                       "lookup = \"ticket\""))
        return None
    unknown = sorted(set(value) - set(DESTINATIONS) - {"kind", "say", "phrases"})
    if unknown:
        problems.append(Problem(where, f"按键 {key}：未知设置 {'、'.join(unknown)} — 可用的设置"
                                       "只有去向、kind、say、phrases"))
    request_kind = value.get("kind")
    if request_kind is not None and (kind != "queue" or not isinstance(request_kind, str)):
        problems.append(Problem(where, f"按键 {key}：kind 只能和 queue 一起使用，且是一个名称 — "
                                       "请删除或改正"))
        request_kind = None
    return Destination(
        kind, "" if isinstance(target, bool) else target, request_kind,  # type: ignore[arg-type]
        say=_prompts(value, "say", (), where, problems),
        phrases=_prompts(value, "phrases", (), where, problems))


def _prompts(table: Mapping[str, Any], name: str, default: tuple[str, ...], where: Where,
             problems: list[Problem]) -> tuple[str, ...]:
    value = table.get(name, default)
    if isinstance(value, list | tuple) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    problems.append(Problem((*where, name), f"{name} 必须是名称列表 — 例如 "
                                            f"{name} = [\"welcome\"]"))
    return default


def _number(table: Mapping[str, Any], name: str, default: int, where: Where,
            problems: list[Problem]) -> int:
    value = table.get(name, default)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 600:
        return value
    problems.append(Problem((*where, name), f"{name} = {value!r} 不合适 — 请填 1 到 600 "
                                            "之间的整数"))
    return default


def _text(table: Mapping[str, Any], name: str, default: str, where: Where,
          problems: list[Problem]) -> str:
    value = table.get(name, default)
    if isinstance(value, str) and value:
        return value
    problems.append(Problem((*where, name), f"{name} 必须是一个名称 — 例如 "
                                            f"{name} = \"{default}\""))
    return default


def _names(raw_nodes: Mapping[str, Any]) -> str:
    return "、".join(repr(n) for n in raw_nodes) or "（无）"

"""What `hotline conf check` finds in a menu that parsed: keys that lead to no node, nodes
no key reaches, nodes from which no key leads to a person, prompts with no text and no
recording, queues and units that do not exist, units with no number, phrases the speech
model does not know. Pure: what the world holds comes in as arguments."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from ivr.menu.tree import MenuTree, Problem


@dataclass(frozen=True)
class KnownWorld:
    """What the menu's names must match. None: not known here, not checked."""

    prompt_ids: Collection[str]  # the catalog's ids and the recordings present
    queues: Collection[str]
    units: Mapping[str, bool] | None = None  # unit code → has a number to call
    # The words of these phrases the speech model's lexicon lacks (speech configured).
    missing_words: Callable[[list[str]], list[str]] | None = None


def check_tree(tree: MenuTree, world: KnownWorld) -> list[Problem]:
    return [*_links(tree), *_reach(tree), *_ways_out(tree), *_prompts(tree, world),
            *_targets(tree, world), *_phrases(tree, world)]


def _links(tree: MenuTree) -> list[Problem]:
    problems = []
    names = "、".join(repr(n) for n in tree.nodes)
    for node in tree.nodes.values():
        for key, d in node.keys.items():
            if d.kind == "menu" and d.target not in tree.nodes:
                problems.append(Problem(
                    ("nodes", node.name, "keys", key),
                    f"按键 {key} 指向的节点 {d.target!r} 不存在 — 请添加 [nodes.{d.target}]，"
                    f"或改为指向 {names} 之一"))
            if d.kind == "back" and node.name == tree.start:
                problems.append(Problem(
                    ("nodes", node.name, "keys", key),
                    f"按键 {key} 是返回上一级，但 {node.name!r} 是菜单的起点 — 请改为 "
                    "repeat = true，或删除该按键"))
    return problems


def _next_nodes(tree: MenuTree, name: str) -> set[str]:
    node = tree.nodes[name]
    return {d.target for d in node.keys.values() if d.kind == "menu" and d.target in tree.nodes}


def _reachable(tree: MenuTree) -> set[str]:
    seen, todo = {tree.start}, [tree.start]
    while todo:
        for name in _next_nodes(tree, todo.pop()) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def _reach(tree: MenuTree) -> list[Problem]:
    reachable = _reachable(tree)
    return [Problem(("nodes", name), f"节点 {name!r} 没有任何按键能到达 — 请让某个按键指向它"
                                     f"（menu = \"{name}\"），或删除它")
            for name in tree.nodes if name not in reachable]


def _ways_out(tree: MenuTree) -> list[Problem]:
    """Every node a caller can reach must lead, key by key, to a person (an operator, a
    unit, an emergency line, a message): a caller who knows what they want never has to
    fail the menu three times to be heard. `back` leads wherever the caller came from,
    so it counts as a way on from a node reached by menu keys."""
    out = {name for name, node in tree.nodes.items()
           if any(d.reaches_a_person for d in node.keys.values())}
    parents: dict[str, set[str]] = {name: set() for name in tree.nodes}
    for name in tree.nodes:
        for child in _next_nodes(tree, name):
            parents[child].add(name)
    changed = True
    while changed:
        changed = False
        for name, node in tree.nodes.items():
            if name in out:
                continue
            onward = _next_nodes(tree, name)
            if any(d.kind == "back" for d in node.keys.values()):
                onward |= parents[name]
            if onward & out:
                out.add(name)
                changed = True
    return [Problem(("nodes", name),
                    f"节点 {name!r} 循环往复，没有通往人工的出口 — 请给它的某个按键设置 "
                    f"queue = \"{tree.operator}\"（或单位、紧急号码、留言）")
            for name in sorted(_reachable(tree) - out)]


def _prompts(tree: MenuTree, world: KnownWorld) -> list[Problem]:
    known = set(world.prompt_ids) | set(tree.prompt_texts)
    return [Problem(where, f"提示音 {prompt!r} 既没有文字也没有录音 — 请在 [prompts] 下添加 "
                           f"{prompt} = \"…\"，或放入录音 prompts/{prompt}.wav")
            for where, prompt in tree.prompt_ids() if prompt not in known]


def _targets(tree: MenuTree, world: KnownWorld) -> list[Problem]:
    problems = []
    queues = "、".join(sorted(world.queues))
    if tree.operator not in world.queues:
        problems.append(Problem(("operator",), f"队列 {tree.operator!r} 不存在 — "
                                               f"请使用 {queues} 之一"))
    for node in tree.nodes.values():
        for key, d in node.keys.items():
            where = ("nodes", node.name, "keys", key)
            if d.kind == "queue" and d.target not in world.queues:
                problems.append(Problem(where, f"按键 {key}：队列 {d.target!r} 不存在 — "
                                               f"请使用 {queues} 之一"))
            if d.kind == "unit" and world.units is not None:
                if d.target not in world.units:
                    problems.append(Problem(where, f"按键 {key}：单位 {d.target!r} 不存在 — "
                                                   "请先添加该单位（hotline units add），"
                                                   "或填写已有单位的编码"))
                elif not world.units[d.target]:
                    problems.append(Problem(where, f"按键 {key}：单位 {d.target!r} 没有可拨打的"
                                                   "号码 — 请为它设置电话"))
    return problems


def _phrases(tree: MenuTree, world: KnownWorld) -> list[Problem]:
    problems = []
    for node in tree.nodes.values():
        seen: dict[str, str] = {}
        for key, d in node.keys.items():
            where = ("nodes", node.name, "keys", key)
            for phrase in d.phrases:
                said = " ".join(phrase.split())
                if said in seen:
                    problems.append(Problem(where, f"按键 {key}：说法 {phrase!r} 已用于按键 "
                                                   f"{seen[said]} — 只保留在一个按键上"))
                seen.setdefault(said, key)
            if world.missing_words is not None and d.phrases:
                missing = world.missing_words(list(d.phrases))
                if missing:
                    problems.append(Problem(where, f"按键 {key}：语音模型不认识 "
                                                   f"{'、'.join(missing)} — 请用模型认识的词"
                                                   "书写该说法（词间用空格）"))
    return problems

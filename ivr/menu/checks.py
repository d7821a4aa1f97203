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
    names = ", ".join(repr(n) for n in tree.nodes)
    for node in tree.nodes.values():
        for key, d in node.keys.items():
            if d.kind == "menu" and d.target not in tree.nodes:
                problems.append(Problem(
                    ("nodes", node.name, "keys", key),
                    f"key {key} leads to node {d.target!r}, which does not exist — add "
                    f"[nodes.{d.target}] or lead it to one of {names}"))
            if d.kind == "back" and node.name == tree.start:
                problems.append(Problem(
                    ("nodes", node.name, "keys", key),
                    f"key {key} goes back, but {node.name!r} is where the menu starts — "
                    "use repeat = true, or take the key away"))
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
    return [Problem(("nodes", name), f"node {name!r} is not reached by any key — lead a key "
                                     f"to it (menu = \"{name}\") or remove it")
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
                    f"node {name!r} loops with no way out to a person — give one of its keys "
                    f"queue = \"{tree.operator}\" (or a unit, an emergency number, a message)")
            for name in sorted(_reachable(tree) - out)]


def _prompts(tree: MenuTree, world: KnownWorld) -> list[Problem]:
    known = set(world.prompt_ids) | set(tree.prompt_texts)
    return [Problem(where, f"prompt {prompt!r} has no text and no recording — add "
                           f"{prompt} = \"…\" under [prompts], or a recording "
                           f"prompts/{prompt}.wav")
            for where, prompt in tree.prompt_ids() if prompt not in known]


def _targets(tree: MenuTree, world: KnownWorld) -> list[Problem]:
    problems = []
    queues = ", ".join(sorted(world.queues))
    if tree.operator not in world.queues:
        problems.append(Problem(("operator",), f"queue {tree.operator!r} does not exist — "
                                               f"use one of {queues}"))
    for node in tree.nodes.values():
        for key, d in node.keys.items():
            where = ("nodes", node.name, "keys", key)
            if d.kind == "queue" and d.target not in world.queues:
                problems.append(Problem(where, f"key {key}: queue {d.target!r} does not exist"
                                               f" — use one of {queues}"))
            if d.kind == "unit" and world.units is not None:
                if d.target not in world.units:
                    problems.append(Problem(where, f"key {key}: unit {d.target!r} does not "
                                                   "exist — add it (hotline units add) or "
                                                   "name an existing unit's code"))
                elif not world.units[d.target]:
                    problems.append(Problem(where, f"key {key}: unit {d.target!r} has no "
                                                   "number to call — give it a phone"))
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
                    problems.append(Problem(where, f"key {key}: the phrase {phrase!r} is also "
                                                   f"key {seen[said]}'s — keep it on one"))
                seen.setdefault(said, key)
            if world.missing_words is not None and d.phrases:
                missing = world.missing_words(list(d.phrases))
                if missing:
                    problems.append(Problem(where, f"key {key}: the speech model does not "
                                                   f"know {', '.join(missing)} — write the "
                                                   "phrase in words it knows (spaced)"))
    return problems

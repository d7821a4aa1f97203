"""The voice menu as a pure state machine over the configured tree (ivr/menu/tree.py):
keys in, steps out. No I/O, no loop.

A driver (agi_scripts.main_menu) executes each step — play and collect keys, look a
ticket up — and feeds the result back, until the menu answers with a Finish. A call keeps
the tree it started with: a menu applied meanwhile reaches the calls that come after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ivr.menu.config import default_tree
from ivr.menu.tree import Destination, MenuTree, Node

# Fixed prompts of the flow itself (ivr/menu/prompt_catalog.toml).
TO_OPERATOR = ("to_operator",)
TICKET_NUMBER_PROMPT = "ticket_number_prompt"


@dataclass(frozen=True)
class Ask:
    """Play the prompts (any key interrupts them) and collect up to max_digits keys."""

    prompts: tuple[str, ...]
    max_digits: int = 1
    timeout_ms: int = 6000
    # A spoken choice counts too (ivr/menu/tree.py phrases). How the answer may come,
    # not what is asked: left out of comparisons.
    spoken: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class LookupTicket:
    number: str


@dataclass(frozen=True)
class Finish:
    """Leave the IVR: play the prompts, then the dialplan routes the call."""

    route: str  # "queue" | "emergency" | "unit" | "message"
    prompts: tuple[str, ...]
    request_kind: str | None = None
    emergency_number: str | None = None
    unit: str | None = None
    queue: str | None = None


Step = Ask | LookupTicket | Finish


@dataclass(frozen=True)
class TicketStatus:
    """What the caller hears about a ticket: its number and a prompt id for its status."""

    number: str
    status_prompt: str


class _Awaiting(Enum):
    KEY = "key"
    TICKET_NUMBER = "ticket_number"
    TICKET_STATUS = "ticket_status"
    NOTHING = "nothing"


def spoken_digits(number: str) -> tuple[str, ...]:
    return tuple(f"digit_{d}" for d in number if d.isdigit())


@dataclass
class MainMenu:
    tree: MenuTree = field(default_factory=default_tree)
    # The caller's choices in order, as stored on the call record (ivr_path).
    path: list[str] = field(default_factory=list)
    _node: str = ""
    _came_from: list[str] = field(default_factory=list)  # the nodes `back` returns to
    _awaiting: _Awaiting = _Awaiting.KEY
    _failures: int = 0
    _plays: int = 0

    def start(self) -> Step:
        self._node = self.tree.start
        return self._play((*self.tree.welcome, *self.node.prompts))

    @property
    def node(self) -> Node:
        return self.tree.nodes[self._node]

    def on_keys(self, keys: str) -> Step:
        """The caller keyed `keys` ('' = silence) in answer to the last Ask."""
        if self._awaiting is _Awaiting.KEY:
            return self._on_key(keys)
        if self._awaiting is _Awaiting.TICKET_NUMBER:
            return self._on_ticket_number(keys)
        raise RuntimeError(f"no keys expected while awaiting {self._awaiting.value}")

    def key_said(self, heard: str) -> str | None:
        """The key a recognised phrase stands for in the node the caller is in."""
        return self.node.key_said(heard)

    def on_said(self, key: str | None) -> Step:
        """The caller pressed nothing but said a phrase (the key it stands for,
        key_said), or something that is none (None): like a key, or like an invalid one."""
        if self._awaiting is not _Awaiting.KEY:
            raise RuntimeError(f"no speech expected while awaiting {self._awaiting.value}")
        if key is None:
            return self._failed("speech", self._retry)
        return self._on_key(key)

    def on_ticket_status(self, status: TicketStatus | None, *, failed: bool = False) -> Step:
        if self._awaiting is not _Awaiting.TICKET_STATUS:
            raise RuntimeError(f"no ticket status expected while awaiting "
                               f"{self._awaiting.value}")
        if failed:
            heard: tuple[str, ...] = ("ticket_lookup_failed",)
        elif status is None:
            heard = ("ticket_not_found",)
        else:
            heard = ("ticket_status_intro", *spoken_digits(status.number), status.status_prompt)
        return self._play((*heard, *self.node.prompts))

    # -- steps ----------------------------------------------------------------------------

    def _play(self, prompts: tuple[str, ...]) -> Step:
        """The current node's question, after `prompts` (which end with its own)."""
        self._plays += 1
        if self._plays > self.tree.max_plays:
            self.path.append("menu_limit")
            return self._to_operator()
        self._awaiting = _Awaiting.KEY
        return Ask(prompts, 1, self.node.timeout_ms, spoken=self.node.spoken)

    def _retry(self, why: str) -> Step:
        return self._play((why, *self.node.prompts))

    def _on_key(self, key: str) -> Step:
        destination = self.node.keys.get(key)
        if destination is None:
            return self._failed(key, self._retry)
        self.path.append(destination.label)
        return self._go(destination)

    def _go(self, d: Destination) -> Step:
        if d.kind == "queue":
            return self._finish(Finish("queue", d.say or TO_OPERATOR, request_kind=d.request_kind,
                                       queue=d.target))
        if d.kind == "emergency":
            return self._finish(Finish("emergency", d.say, emergency_number=d.target))
        if d.kind == "unit":
            return self._finish(Finish("unit", d.say, unit=d.target))
        if d.kind == "message":
            return self._finish(Finish("message", d.say))
        self._failures = 0
        if d.kind == "lookup":
            self._awaiting = _Awaiting.TICKET_NUMBER
            return Ask((TICKET_NUMBER_PROMPT,), self.tree.ticket_digits,
                       self.tree.ticket_timeout_ms)
        if d.kind == "menu":
            self._came_from.append(self._node)
            self._node = d.target
        elif d.kind == "back" and self._came_from:
            self._node = self._came_from.pop()
        return self._play(self.node.prompts)  # also repeat

    def _on_ticket_number(self, digits: str) -> Step:
        number = digits.rstrip("#")
        if number.isdigit():
            self.path.append(f"ticket:{number}")
            self._awaiting = _Awaiting.TICKET_STATUS
            return LookupTicket(number)
        # Nothing usable keyed: back to the node's question, counted as a failure.
        return self._failed(digits, self._retry)

    def _failed(self, keys: str, retry: Callable[[str], Step]) -> Step:
        self.path.append(f"invalid:{keys}" if keys else "timeout")
        self._failures += 1
        if self._failures >= self.node.max_failures:
            return self._to_operator()
        return retry("invalid_choice" if keys else "no_input")

    def _to_operator(self) -> Finish:
        return self._finish(Finish("queue", TO_OPERATOR, queue=self.tree.operator))

    def _finish(self, finish: Finish) -> Finish:
        self._awaiting = _Awaiting.NOTHING
        return finish

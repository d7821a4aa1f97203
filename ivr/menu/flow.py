"""The main voice menu as a pure state machine: keys in, steps out. No I/O, no loop.

A driver (agi_scripts.main_menu) executes each step — play and collect keys, look a
ticket up — and feeds the result back, until the menu answers with a Finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

# Keys of the main menu → the kind of request (the ticket kinds of README "Tickets").
REQUEST_KINDS = {"1": "consultation", "2": "complaint", "3": "help", "4": "suggestion"}
EMERGENCY_NUMBERS = {"1": "110", "2": "119", "3": "120", "4": "122"}
KEY_PROGRESS, KEY_EMERGENCY, KEY_REPEAT, KEY_OPERATOR = "5", "8", "9", "0"
KEY_BACK = "*"


@dataclass(frozen=True)
class MenuLimits:
    # Invalid key or silence: the menu is replayed twice, the third failure goes to an operator.
    max_failures: int = 3
    # A citizen in an emergency who fumbles gets an operator after one replay.
    max_emergency_failures: int = 2
    # Bounds a caller who keeps pressing 9 or browsing tickets: then an operator takes over.
    max_menu_plays: int = 8
    key_timeout_ms: int = 6000
    ticket_digit_timeout_ms: int = 8000
    max_ticket_digits: int = 20


@dataclass(frozen=True)
class Ask:
    """Play the prompts (any key interrupts them) and collect up to max_digits keys."""

    prompts: tuple[str, ...]
    max_digits: int = 1
    timeout_ms: int = 6000
    # The main menu: a spoken choice counts too (ivr/menu/spoken.py). How the answer may
    # come, not what is asked: left out of comparisons.
    spoken: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class LookupTicket:
    number: str


@dataclass(frozen=True)
class Finish:
    """Leave the IVR: play the prompts, then the dialplan routes the call."""

    route: str  # "queue" | "emergency"
    prompts: tuple[str, ...]
    request_kind: str | None = None
    emergency_number: str | None = None


Step = Ask | LookupTicket | Finish


@dataclass(frozen=True)
class TicketStatus:
    """What the caller hears about a ticket: its number and a prompt id for its status."""

    number: str
    status_prompt: str


class _State(Enum):
    MAIN = "main"
    EMERGENCY = "emergency"
    TICKET_NUMBER = "ticket_number"
    TICKET_LOOKUP = "ticket_lookup"
    DONE = "done"


def spoken_digits(number: str) -> tuple[str, ...]:
    return tuple(f"digit_{d}" for d in number if d.isdigit())


@dataclass
class MainMenu:
    limits: MenuLimits = field(default_factory=MenuLimits)
    # The caller's choices in order, as stored on the call record (ivr_path).
    path: list[str] = field(default_factory=list)
    _state: _State = _State.MAIN
    _failures: int = 0
    _plays: int = 0

    def start(self) -> Step:
        return self._main(("welcome", "main_menu"))

    def on_keys(self, keys: str) -> Step:
        """The caller keyed `keys` ('' = silence) in answer to the last Ask."""
        if self._state is _State.MAIN:
            return self._on_main_key(keys)
        if self._state is _State.EMERGENCY:
            return self._on_emergency_key(keys)
        if self._state is _State.TICKET_NUMBER:
            return self._on_ticket_number(keys)
        raise RuntimeError(f"no keys expected in state {self._state.value}")

    def on_said(self, key: str | None) -> Step:
        """The caller pressed nothing but said a menu phrase (the key it stands for), or
        something that is none (None): like a key, or like an invalid one."""
        if self._state is not _State.MAIN:
            raise RuntimeError(f"no speech expected in state {self._state.value}")
        if key is None:
            return self._failed("speech", self.limits.max_failures,
                                lambda p: self._main((p, "main_menu")))
        return self._on_main_key(key)

    def on_ticket_status(self, status: TicketStatus | None, *, failed: bool = False) -> Step:
        if self._state is not _State.TICKET_LOOKUP:
            raise RuntimeError(f"no ticket status expected in state {self._state.value}")
        if failed:
            heard: tuple[str, ...] = ("ticket_lookup_failed",)
        elif status is None:
            heard = ("ticket_not_found",)
        else:
            heard = ("ticket_status_intro", *spoken_digits(status.number), status.status_prompt)
        return self._main((*heard, "main_menu"))

    # -- states ---------------------------------------------------------------------------

    def _main(self, prompts: tuple[str, ...]) -> Step:
        self._plays += 1
        if self._plays > self.limits.max_menu_plays:
            self.path.append("menu_limit")
            return self._to_operator()
        self._state = _State.MAIN
        return Ask(prompts, 1, self.limits.key_timeout_ms, spoken=True)

    def _on_main_key(self, key: str) -> Step:
        if key in REQUEST_KINDS:
            kind = REQUEST_KINDS[key]
            self.path.append(kind)
            return self._finish(Finish("queue", (f"ack_{kind}", "to_operator"), request_kind=kind))
        if key == KEY_OPERATOR:
            self.path.append("operator")
            return self._to_operator()
        if key == KEY_REPEAT:
            self.path.append("repeat")
            self._failures = 0
            return self._main(("main_menu",))
        if key == KEY_PROGRESS:
            self.path.append("progress")
            self._failures = 0
            self._state = _State.TICKET_NUMBER
            return Ask(("ticket_number_prompt",), self.limits.max_ticket_digits,
                       self.limits.ticket_digit_timeout_ms)
        if key == KEY_EMERGENCY:
            self.path.append("emergency")
            self._failures = 0
            self._state = _State.EMERGENCY
            return Ask(("emergency_menu",), 1, self.limits.key_timeout_ms)
        return self._failed(key, self.limits.max_failures, lambda p: self._main((p, "main_menu")))

    def _on_emergency_key(self, key: str) -> Step:
        if key in EMERGENCY_NUMBERS:
            number = EMERGENCY_NUMBERS[key]
            self.path.append(f"emergency:{number}")
            return self._finish(
                Finish("emergency", ("emergency_connecting",), emergency_number=number)
            )
        if key == KEY_BACK:
            self.path.append("back")
            self._failures = 0
            return self._main(("main_menu",))
        return self._failed(key, self.limits.max_emergency_failures,
                            lambda p: Ask((p, "emergency_menu"), 1, self.limits.key_timeout_ms))

    def _on_ticket_number(self, digits: str) -> Step:
        number = digits.rstrip("#")
        if number.isdigit():
            self.path.append(f"ticket:{number}")
            self._state = _State.TICKET_LOOKUP
            return LookupTicket(number)
        # Nothing usable keyed: back to the main menu, counted as a failure.
        return self._failed(digits, self.limits.max_failures,
                            lambda p: self._main((p, "main_menu")))

    # -- shared -----------------------------------------------------------------------------

    def _failed(self, keys: str, limit: int, retry: Callable[[str], Step]) -> Step:
        self.path.append(f"invalid:{keys}" if keys else "timeout")
        self._failures += 1
        if self._failures >= limit:
            return self._to_operator()
        return retry("invalid_choice" if keys else "no_input")

    def _to_operator(self) -> Finish:
        return self._finish(Finish("queue", ("to_operator",)))

    def _finish(self, finish: Finish) -> Finish:
        self._state = _State.DONE
        return finish

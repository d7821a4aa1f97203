"""Speech in the hotline: the configured Vosk model, loaded once in the background; a live
transcript of every call while it is up (ivr/speech/live.py), and after the call the
transcript onto the call record — from the live streams when both sides were decoded to
the end, else from the recording's two sides.

HOTLINE_VOSK_MODEL unset: speech is off, and nothing else changes ("asr": "off" in
/api/health). Set but unloadable: "asr": "down" (503), and the calls go on without text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from ivr.calls.call_log import CallLog
from ivr.calls.facts import Fact, SeatAnswered
from ivr.log_format import bind_call
from ivr.speech.live import LiveCall, new_stream
from ivr.speech.taps import Tap, TapControl
from ivr.telephony.ami_client import Message
from ivr.telephony.ami_events import OrderedEvents
from ivr.telephony.ari_client import AriError
from ivr.telephony.audiosocket import AudioSink
from recognizer.files import AudioFileError, transcribe_file
from recognizer.model import ModelError, SpeechModel, load_model
from recognizer.pool import DecoderPool
from recognizer.stream import Final
from recognizer.transcript import Segment, Side, in_order, render, segments_of
from tickets.drafting import draft_of

log = logging.getLogger(__name__)

AsrState = Literal["off", "loading", "up", "down"]
# The citizen's voice is tapped from the start (what they say in the menu counts); what
# they hear only once an operator answers: the menu's prompts and the queue's music are
# not the operator's words.
SPY_OF: dict[Side, Literal["in", "out"]] = {"caller": "in", "agent": "out"}
STREAMS_END_TIMEOUT = 30.0  # after the recording stops, for the live decoders to finish
PublishToSeat = Callable[[str, dict[str, Any]], None]


def side_files(recording: Path) -> tuple[Path, Path] | None:
    """The recording's two sides, kept beside it by MixMonitor's r()/t() options
    (extensions_inbound.conf): what the citizen said, and what the citizen heard."""
    said = recording.with_name(f"{recording.stem}-in{recording.suffix}")
    heard = recording.with_name(f"{recording.stem}-out{recording.suffix}")
    return (said, heard) if said.is_file() and heard.is_file() else None


def call_segments(model: SpeechModel, recording: Path,
                  agent_from: float = 0.0) -> list[Segment]:
    """The call's transcript from its recording, each side apart where the sides were
    kept (blocking: run in a worker); what the citizen heard counts from `agent_from`
    seconds on (when the operator answered). A recording without sides is read as the
    caller's."""
    sides = side_files(recording)
    if sides is None:
        finals: list[Final] = transcribe_file(model, recording)[0]
        return segments_of("caller", finals)
    said, heard = (transcribe_file(model, path)[0] for path in sides)
    return in_order(segments_of("caller", said),
                    [s for s in segments_of("agent", heard) if s.start >= agent_from])


def _last_change(recording: Path) -> float:
    files = [recording, *(side_files(recording) or ())]
    return max((f.stat().st_mtime for f in files if f.exists()), default=0.0)


async def settled(recording: Path, quiet: float = 1.0, longest: float = 10.0) -> None:
    """Wait for MixMonitor to finish the files (it closes them, header last, in its own
    thread after the hang-up; AMI tells no event for it): until none changed for `quiet`.
    The file system is asked from a worker, not the event loop."""
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        if time.time() - await asyncio.to_thread(_last_change, recording) >= quiet:
            return
        await asyncio.sleep(0.25)


def as_record(segments: list[Segment]) -> tuple[list[dict[str, Any]], str]:
    """A transcript as CallLog.transcribed keeps it: the segments, and their text."""
    return [s.as_dict() for s in segments], render(segments)


class SpeechService:
    def __init__(self, model_path: Path | None, call_log: CallLog, *, workers: int,
                 live_streams: int, taps: TapControl | None = None,
                 publish: PublishToSeat | None = None,
                 menu_phrases: list[str] | None = None,
                 endpoint_seconds: float | None = None) -> None:
        self._model_path = model_path
        self._calls = call_log
        self._workers, self._live_streams = workers, live_streams
        self._taps = taps
        self.publish = publish
        self.state: AsrState = "off" if model_path is None else "loading"
        self.problem: str | None = None
        self.pool: DecoderPool | None = None
        self._loading: asyncio.Task[None] | None = None
        self._live: dict[str, LiveCall] = {}  # call id → its live transcript
        self._expected: dict[str, tuple[LiveCall, Side]] = {}  # AudioSocket id → side
        self._open_taps: dict[str, list[Tap]] = {}
        self._seat_of: dict[str, str] = {}
        # The finals and drafts sent so far, for a seat that answers later (said in the menu)
        self._replay: dict[str, list[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._events = OrderedEvents(("MixMonitorStart", "Hangup"),
                                     self._on_ami, "speech")
        self.on_event = self._events.on_event
        self.after_call = 0  # calls transcribed from their recording
        self._menu_phrases = menu_phrases
        self._endpoint_seconds = endpoint_seconds
        self.missing_words: list[str] = []  # menu words the model does not know

    # -- life ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Begin loading the model (seconds, hundreds of MB) without holding up the start."""
        await self._events.start()
        if self._model_path is not None:
            self._loading = asyncio.create_task(self._load(self._model_path), name="asr-load")

    async def _load(self, path: Path) -> None:
        try:
            model = await asyncio.to_thread(load_model, path, self._endpoint_seconds)
        except ModelError as exc:
            self.state, self.problem = "down", str(exc)
            log.error("speech is down: %s", exc)
            return
        self.pool = DecoderPool(model, self._workers, self._live_streams)
        self._check_phrases()
        self.state = "up"

    def missing_words_check(self) -> Callable[[list[str]], list[str]] | None:
        """The loaded model's lexicon check, for `hotline conf` on the admin page (None:
        speech off, or the model not loaded)."""
        return self.pool.model.missing_words if self.pool is not None else None

    def set_menu_phrases(self, phrases: list[str]) -> None:
        """A new menu went live: callers who arrive from now on are heard for its
        phrases (a stream keeps the grammar it started with)."""
        self._menu_phrases = phrases
        self._check_phrases()

    def _check_phrases(self) -> None:
        if self.pool is None or not self._menu_phrases:
            return
        self.missing_words = self.pool.model.missing_words(self._menu_phrases)
        if self.missing_words:
            log.error("the speech model does not know these words of the menu's phrases "
                      "($HOTLINE_HOME/conf/menu.toml), which cannot be recognised: %s",
                      " ".join(self.missing_words))

    async def ready(self) -> bool:
        """Wait for the model, if one is configured; True when speech is up."""
        if self._loading is not None:
            await asyncio.shield(self._loading)
        return self.state == "up"

    async def stop(self) -> None:
        await self._events.stop()
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.pool is not None:
            self.pool.close()

    async def idle(self) -> None:
        """Wait until every tap, untap and transcript under way is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def counts(self) -> dict[str, Any]:
        """For the supervisor: streams decoded live now, and those that were not."""
        stats = self.pool.stats if self.pool else None
        return {"asr": self.state, "live_streams": stats.live if stats else 0,
                "refused_streams": stats.refused if stats else 0,
                "fell_behind_streams": stats.fell_behind if stats else 0,
                "after_call": self.after_call}

    # -- what happens on the call -----------------------------------------------------------
    async def on_fact(self, fact: Fact) -> None:
        """From the call tracker: who answered (their browser gets the text), the end."""
        if isinstance(fact, SeatAnswered):
            self._seat_of[fact.call_id] = fact.seat
            for frame in self._replay.get(fact.call_id, []):  # said in the menu, its draft
                self._to_seat(fact.call_id, frame)
            call = self._live.get(fact.call_id)
            caller = call.caller() if call else None
            if caller is not None:
                caller.grammar = None  # out of the menu: spoken choices are over
            if call is not None and "agent" not in call.wanted:
                self._spawn(self._tap(call, "agent"), f"asr-tap-agent-{fact.call_id}")
        # (CallEnded: the seat still gets the last sentence, decoded after the hang-up;
        # _after forgets the call once its streams are done.)

    async def _on_ami(self, message: Message) -> None:
        call_id = message.get("Uniqueid", "")
        if not call_id or call_id != message.get("Linkedid"):
            return  # only the citizen's channel is tapped and recorded
        event = message.get("Event")
        if event == "MixMonitorStart" and self.state == "up":
            call = self._live[call_id] = LiveCall(call_id, time.monotonic())
            self._spawn(self._tap(call, "caller"), f"asr-tap-caller-{call_id}")
        elif event == "Hangup":
            for tap in self._open_taps.pop(call_id, []):
                self._expected.pop(tap.stream_id, None)  # a stream that never came
                if self._taps is not None:
                    self._spawn(self._taps.close(tap), f"asr-untap-{call_id}")
            if self.state == "up":
                self._spawn(self._after(call_id), f"asr-after-{call_id}")

    async def _tap(self, call: LiveCall, side: Side) -> None:
        call.wanted.add(side)
        if self._taps is None:
            call.tap_failed = True
            return
        tap = Tap(call.call_id, SPY_OF[side])
        self._expected[tap.stream_id] = (call, side)
        self._open_taps.setdefault(call.call_id, []).append(tap)
        try:
            await self._taps.open(tap)  # the stream may reach claim() before this returns
        except AriError as exc:
            call.tap_failed = True
            self._expected.pop(tap.stream_id, None)
            log.warning("call %s: no live transcript of the %s (%s); transcribed after the "
                        "call", call.call_id, side, exc)

    async def claim(self, stream_id: str) -> AudioSink | None:
        """The AudioSocket server asks whose stream this is."""
        expected = self._expected.pop(stream_id, None)
        if expected is None or self.pool is None:
            return None
        call, side = expected
        # Called from the stream's own connection task: the rest of it, and its decoding
        # task, are this call's work.
        bind_call(call.call_id)
        in_menu = side == "caller" and call.call_id not in self._seat_of  # not answered yet
        return new_stream(call, stream_id, side, self.pool, self._published,
                          grammar=self._menu_phrases if in_menu else None,
                          pause_seconds=self._endpoint_seconds)

    async def hear(self, call_id: str, since: float, wait: float = 2.0) -> str | None:
        """A menu phrase the citizen said since `since` (monotonic), for the menu's AGI
        route after a prompt got no key: waits up to `wait` for an utterance under way to
        finish. None: nothing said (or no live stream: speech off, tap failed)."""
        call = self._live.get(call_id)
        stream = call.caller() if call else None
        if stream is None or not stream.live or not stream.grammar:
            return None
        deadline = time.monotonic() + wait
        while True:
            said = next((text for at, text in stream.phrases if at >= since), None)
            if said is not None or not stream.phrase_pending:
                return said
            stream.phrase_heard.clear()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await stream.phrase_heard.wait()
            except TimeoutError:
                return None

    def _published(self, call_id: str, frame: dict[str, Any]) -> None:
        self._to_seat(call_id, frame)
        if frame.get("state") != "final":
            return
        replay = self._replay.setdefault(call_id, [])
        replay.append(frame)
        if frame["side"] == "caller":
            # The ticket draft from what the citizen has said so far (the operator corrects it).
            said = [f["text"] for f in replay if f.get("side") == "caller"]
            suggestion = {"type": "ticket_draft", "call_id": call_id, **draft_of(said)}
            replay.append(suggestion)
            self._to_seat(call_id, suggestion)

    def _to_seat(self, call_id: str, frame: dict[str, Any]) -> None:
        seat = self._seat_of.get(call_id)
        if seat is not None and self.publish is not None:
            self.publish(seat, frame)

    async def _after(self, call_id: str) -> None:
        """The call is over: its transcript onto the call, live or from the recording."""
        call = self._live.pop(call_id, None)
        if call is not None:
            await call.finished(STREAMS_END_TIMEOUT)
        self._seat_of.pop(call_id, None)
        self._replay.pop(call_id, None)
        if call is not None and call.complete:
            await self._calls.transcribed(call_id, *as_record(call.segments()))
            return
        record = await self._calls.find(call_id)
        if record is None or not record.recording:
            return
        answered_after = ((record.answered - record.started).total_seconds()
                          if record.answered else float("inf"))
        await settled(Path(record.recording))
        try:
            await self.transcribe_call(call_id, Path(record.recording), answered_after)
            self.after_call += 1
        except (AudioFileError, ModelError) as exc:
            log.warning("call %s: no transcript: %s", call_id, exc)

    async def transcribe_call(self, call_id: str, recording: Path,
                              agent_from: float = 0.0) -> list[Segment]:
        """After the call: its recording's transcript onto the call record."""
        if not await self.ready():
            raise ModelError(self.problem or "speech is off (HOTLINE_VOSK_MODEL is not set)")
        assert self.pool is not None
        segments = await self.pool.run(call_segments, self.pool.model, recording, agent_from)
        await self._calls.transcribed(call_id, *as_record(segments))
        return segments

    def _spawn(self, work: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

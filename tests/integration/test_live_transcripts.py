"""The speech service between the AudioSocket server and the call record, on the real
Korean model: a stand-in for Asterisk's taps streams WAV audio over a real loopback socket
at real time, as Asterisk would (20 ms frames); the transcript lands on a real call record.
The same path with Asterisk's real taps runs in tests/e2e/test_speech.py."""

import asyncio
import uuid
import wave

import pytest

from ivr.calls.call_log import CallLog
from ivr.calls.facts import SeatAnswered
from ivr.speech.service import SpeechService
from ivr.telephony.audiosocket import AudioSocketServer, frame
from store.db import utcnow
from tests.support.speech import GREETING, THANKS, korean_model_path, pcm_of, spoken_wav
from tests.support.stack import eventually

CALL = "1764650000.42"


class StreamingTaps:
    """Does what Asterisk's snoop + externalMedia do for a tap: connect to the AudioSocket
    server, say the stream's id, send its side's audio in 20 ms frames at real time."""

    def __init__(self, audio, port):
        self.audio, self.port, self.sent = audio, port, []

    def on_event(self, event):
        pass

    async def open(self, tap):
        pcm = self.audio[tap.spy]
        _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(frame(0x01, uuid.UUID(tap.stream_id).bytes))
        self.sent.append(asyncio.create_task(self._stream(writer, pcm)))

    async def _stream(self, writer, pcm):
        for at in range(0, len(pcm), 320):
            writer.write(frame(0x10, pcm[at:at + 320]))
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.close()  # the citizen hung up: Asterisk closes without a hang-up frame

    async def close(self, tap):
        pass


@pytest.fixture
async def speech(db, tmp_path):
    folder = tmp_path / "audio"
    folder.mkdir()
    audio = {"in": pcm_of(spoken_wav(folder / "in.wav", f"{GREETING}. {GREETING}"))[0],
             "out": pcm_of(spoken_wav(folder / "out.wav", THANKS, pad=1.0))[0]}
    calls = CallLog(db, str(tmp_path / "recordings"))
    await calls.call_arrived(CALL, "13900000801", utcnow())
    await calls.answered(CALL, "1301", 0.0)  # at once: the operator's words all count
    frames = []
    holder = {}

    async def claim(stream_id):
        return await holder["service"].claim(stream_id)

    server = AudioSocketServer(claim, "127.0.0.1", 0)
    await server.start()
    taps = StreamingTaps(audio, server.port)

    def build(live_streams):
        service = SpeechService(korean_model_path(), calls, workers=2,
                                live_streams=live_streams, taps=taps,
                                publish=lambda seat, f: frames.append((seat, f)))
        holder["service"] = service
        return service

    yield build, calls, frames, taps, tmp_path / "recordings", folder
    await server.stop()
    if "service" in holder:
        await holder["service"].stop()


async def transcribed(calls):
    record = await calls.get(CALL)
    return record if record.transcript_segments else None


def event(name):
    return {"Event": name, "Uniqueid": CALL, "Linkedid": CALL}


async def a_call(service, taps):
    """The call's events as Asterisk and the tracker report them."""
    await service.start()
    assert await service.ready()
    service.on_event(event("MixMonitorStart"))
    await asyncio.sleep(0.3)
    await service.on_fact(SeatAnswered(CALL, "1301", 1.0))
    await asyncio.sleep(0.3)
    await asyncio.gather(*taps.sent)  # both sides said all they had
    service.on_event(event("Hangup"))


async def test_both_sides_decoded_live_to_the_operator_and_onto_the_call(speech):
    build, calls, frames, taps, _recordings, _audio = speech
    service = build(live_streams=4)
    await a_call(service, taps)

    record = await eventually(lambda: transcribed(calls), timeout=30, what="the transcript")
    sent = [f for seat, f in frames if seat == "1301" and f["type"] == "transcript"]
    assert {f["side"] for f in sent} == {"caller", "agent"}
    assert {f["state"] for f in sent} == {"partial", "final"}
    # each sentence of the citizen's brings the ticket draft up to date: their words only
    drafts = [f for _seat, f in frames if f["type"] == "ticket_draft"]
    caller_finals = [f["text"] for f in sent if f["side"] == "caller" and f["state"] == "final"]
    assert len(drafts) == len(caller_finals)
    assert drafts[-1]["content"] == "，".join(caller_finals) + "。"
    sides = [s["side"] for s in record.transcript_segments]
    assert set(sides) == {"caller", "agent"}
    agent = next(s for s in record.transcript_segments if s["side"] == "agent")
    assert agent["start"] >= 0.9  # its stream began after the caller's, with a second of quiet
    assert "市民：" in record.transcript and "话务员：" in record.transcript
    assert service.after_call == 0 and service.counts()["live_streams"] == 0


async def test_a_side_refused_a_live_slot_is_transcribed_from_the_recording(speech):
    build, calls, frames, taps, recordings, audio = speech
    recordings.mkdir()
    # what MixMonitor leaves: the mix and its two sides
    for name, source in ((f"{CALL}.wav", "in"), (f"{CALL}-in.wav", "in"),
                         (f"{CALL}-out.wav", "out")):
        with wave.open(str(recordings / name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(pcm_of(audio / f"{source}.wav")[0])
    service = build(live_streams=1)  # the caller's side gets the one slot
    await a_call(service, taps)

    record = await eventually(lambda: transcribed(calls), timeout=30, what="the transcript")
    assert service.counts()["refused_streams"] == 1 and service.after_call == 1
    assert {s["side"] for s in record.transcript_segments} == {"caller", "agent"}
    # live frames still went out for the side that had a slot
    assert {f.get("side") for _seat, f in frames if f["type"] == "transcript"} == {"caller"}

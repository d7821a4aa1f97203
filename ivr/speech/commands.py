"""`hotline transcribe FILE…` and `hotline mic-test`: speech for the admin's terminal.

transcribe: each file's text, decoded on HOTLINE_ASR_WORKERS threads with a progress bar
(tqdm, on a terminal only); a file that is a call's recording has its transcript written
onto the call. A bad file is one line on stderr naming it, and the batch goes on.
mic-test: the admin's microphone, live, to try a model before it takes calls.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from ivr.calls.call_log import CallLog
from ivr.errors import ConfigurationError
from ivr.settings import Settings
from ivr.speech.service import as_record, call_segments
from recognizer.files import AudioFileError
from recognizer.model import ModelError, SpeechModel, load_model
from recognizer.stream import Final, Partial, StreamDecoder
from recognizer.transcript import Segment, render
from store.db import Database

MIC_RATE = 16000


def _model(settings: Settings) -> SpeechModel:
    if settings.vosk_model is None:
        raise ConfigurationError("speech is off: set HOTLINE_VOSK_MODEL to a Vosk model "
                                 "directory")
    try:
        return load_model(settings.vosk_model, settings.asr_endpoint_seconds)
    except ModelError as exc:
        raise ConfigurationError(str(exc)) from None


def transcribe(settings: Settings, files: list[str]) -> int:
    model = _model(settings)
    paths = [Path(f) for f in files]
    results: dict[Path, list[Segment] | AudioFileError] = {}

    def one(path: Path) -> None:
        try:
            results[path] = call_segments(model, path)
        except AudioFileError as exc:
            results[path] = exc

    with (ThreadPoolExecutor(settings.asr_workers) as pool,
          tqdm(total=len(paths), unit="file", file=sys.stderr, disable=None) as bar):
        for done in [pool.submit(one, p) for p in paths]:
            done.result()
            bar.update()
    failed = 0
    for path in paths:
        result = results[path]
        if isinstance(result, AudioFileError):
            failed += 1
            print(f"hotline transcribe: {path}: {result}", file=sys.stderr)
        else:
            print(f"== {path}\n{render(result) or '（无语音）'}")
    written = asyncio.run(_onto_calls(settings, {
        p: r for p, r in results.items() if not isinstance(r, AudioFileError)}))
    for path, call_id in written:
        print(f"transcript of {path} written onto call {call_id}")
    return 1 if failed else 0


async def _onto_calls(settings: Settings, done: dict[Path, list[Segment]]
                      ) -> list[tuple[Path, str]]:
    """Write each transcript onto the call whose recording the file is."""
    if not done:
        return []
    db = Database(settings.db_url)
    try:
        await db.migrate()
        calls = CallLog(db, str(settings.recordings_dir))
        written = []
        for path, segments in done.items():
            call_id = await calls.of_recording(str(path.resolve()))
            if call_id is not None:
                await calls.transcribed(call_id, *as_record(segments))
                written.append((path, call_id))
        return written
    finally:
        await db.close()


def mic_test(settings: Settings, seconds: float | None) -> int:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio itself is missing
        print(f"hotline mic-test: no audio system: {exc} (install libportaudio2)",
              file=sys.stderr)
        return 2
    inputs = [d for d in sounddevice.query_devices() if d["max_input_channels"] > 0]
    if not inputs:
        print("hotline mic-test: no microphone: this machine has no audio input device",
              file=sys.stderr)
        return 2
    decoder = StreamDecoder(_model(settings), MIC_RATE)
    print(f"listening on {inputs[0]['name']}; speak (Ctrl-C stops)", file=sys.stderr)
    try:
        with sounddevice.RawInputStream(samplerate=MIC_RATE, channels=1, dtype="int16",
                                        blocksize=MIC_RATE // 5) as stream:
            heard = 0.0
            while seconds is None or heard < seconds:
                data, _overflowed = stream.read(MIC_RATE // 5)
                heard += 0.2
                for said in decoder.feed(bytes(data)):
                    _show(said)
    except KeyboardInterrupt:
        pass
    except sounddevice.PortAudioError as exc:
        print(f"hotline mic-test: the microphone failed: {exc}", file=sys.stderr)
        return 2
    for said in decoder.finish():
        _show(said)
    return 0


def _show(said: Partial | Final) -> None:
    if isinstance(said, Partial):
        print(f"\r… {said.text}", end="", file=sys.stderr, flush=True)
    else:
        print(f"\r[{said.start:6.2f}-{said.end:6.2f}] {said.text}")

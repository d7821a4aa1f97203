"""The recognizer on real Vosk with the packaged Korean model and espeak-ng Korean speech.
Open-vocabulary text from synthetic Korean is mostly wrong (PLATFORM.md), so these check
structure — partials grow, a final arrives, word times lie inside the audio, silence says
nothing — and exact text only where a grammar makes it stable."""

import asyncio
import shutil
import wave

import numpy as np
import pytest

from recognizer.files import AudioFileError, read_audio, transcribe_file
from recognizer.model import ModelError, load_model
from recognizer.pauses import FRAME_SECONDS, PauseDetector
from recognizer.pool import DecoderPool
from recognizer.stream import Final, Partial, StreamDecoder
from tests.support.speech import (
    GREETING,
    THANKS,
    korean_model,
    korean_model_path,
    pcm_of,
    silent_wav,
    spoken_wav,
)

CHUNK = 0.2  # seconds per feed, as the live path hands audio over


@pytest.fixture(scope="module")
def model():
    return korean_model()


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech")
    return {rate: spoken_wav(folder / f"speech-{rate}.wav", f"{GREETING}. {THANKS}. {GREETING}",
                             rate) for rate in (8000, 16000)}


def decode(model, path, grammar=None):
    pcm, rate = pcm_of(path)
    decoder = StreamDecoder(model, rate, grammar)
    step = int(rate * CHUNK) * 2
    heard = []
    for at in range(0, len(pcm), step):
        heard += decoder.feed(pcm[at:at + step])
    return heard + decoder.finish(), len(pcm) / 2 / rate


@pytest.mark.parametrize("rate", [8000, 16000])
def test_partials_grow_then_a_final_with_word_times_inside_the_audio(model, speech, rate):
    heard, seconds = decode(model, speech[rate])
    partials = [h.text for h in heard if isinstance(h, Partial)]
    finals = [h for h in heard if isinstance(h, Final)]
    assert len(partials) >= 2, partials
    assert len(partials[-1].split()) > len(partials[0].split())  # the sentence grows
    assert finals and all(f.text for f in finals)
    for final in finals:
        assert 0 <= final.start < final.end <= seconds
        assert final.words and all(0 <= w.start < w.end <= seconds for w in final.words)
    # espeak speaks from 0.5 s (the padding) on: no word before it
    assert finals[0].words[0].start >= 0.4


def test_silence_says_nothing(model, tmp_path):
    heard, _ = decode(model, silent_wav(tmp_path / "silence.wav", 3.0))
    assert heard == []


@pytest.mark.parametrize("rate", [8000, 16000])
def test_a_grammar_of_known_words_decodes_exactly(model, speech, rate):
    heard, _ = decode(model, speech[rate], grammar=[GREETING, THANKS])
    finals = [h for h in heard if isinstance(h, Final)]
    assert " ".join(f.text for f in finals) == f"{GREETING} {THANKS} {GREETING}"


@pytest.fixture(scope="module")
def two_sentences(tmp_path_factory):
    """Two sentences with 0.8 s of silence after each: (pcm, where each one's voice ends:
    its last sample above 2 % of the loudest, espeak's own file ends in quiet)."""
    folder = tmp_path_factory.mktemp("pause")
    silence = b"\0\0" * int(8000 * 0.8)
    pcm, ends = b"", []
    for n, text in enumerate((f"{GREETING} {THANKS}", THANKS)):
        voice, _ = pcm_of(spoken_wav(folder / f"s{n}.wav", text, pad=0.0))
        samples = np.abs(np.frombuffer(voice, dtype=np.int16).astype(np.int32))
        last_loud = np.nonzero(samples > 0.02 * samples.max())[0][-1]
        ends.append(len(pcm) / 2 / 8000 + last_loud / 8000)
        pcm += voice + silence
    return pcm, ends


def finals_by_frame(model, pcm, pause_seconds):
    """Fed 20 ms at a time as AudioSocket sends it: each final and how far into the audio
    it came."""
    decoder, pauses = StreamDecoder(model, 8000), PauseDetector(8000, pause_seconds or 1)
    step = int(8000 * FRAME_SECONDS) * 2
    came = []
    for at in range(0, len(pcm), step):
        frame = pcm[at:at + step]
        heard = decoder.feed(frame)
        if pause_seconds and pauses.hear(frame):
            heard += decoder.end_sentence()
        came += [(h, (at + len(frame)) / 2 / 8000) for h in heard if isinstance(h, Final)]
    return came


def test_a_pause_in_the_voice_ends_the_sentence_at_once(model, two_sentences):
    """Vosk's own rules wait well over half a second on this unsure audio; the pause
    detector closes each sentence 0.3 s into its pause (and the detector's own ~0.1 s of
    hang-over), and the next sentence's word times go on from the stream's start."""
    pcm, ends = two_sentences
    came = finals_by_frame(model, pcm, pause_seconds=0.3)
    assert len(came) == 2, came
    for (final, at), end in zip(came, ends, strict=True):
        assert 0.3 <= at - end <= 0.5, (at, end)
        assert final.words and end - 1.5 < final.words[-1].end <= end + 0.2
    assert came[1][0].start > ends[0]
    # Vosk alone: no sentence final within half a second of its end (here: none in the
    # 0.8 s pauses at all)
    on_its_own = finals_by_frame(model, pcm, pause_seconds=None)
    assert not any(0 <= at - end <= 0.5 for _, at in on_its_own for end in ends), on_its_own


def test_silence_and_a_rate_it_cannot_take_end_no_sentence():
    assert not PauseDetector(8000, 0.3).hear(b"\0\0" * 8000 * 2)
    assert not PauseDetector(11025, 0.3).hear(b"\x10\x27" * 11025)


def test_the_lexicon_check_names_the_words_the_model_lacks(model):
    assert model.knows(GREETING)
    assert model.missing_words([f"{GREETING} {THANKS}", "십이삼사오핫라인"]) == ["십이삼사오핫라인"]
    assert not model.knows("[unk]")  # the packaged model has none (PLATFORM.md)


def test_a_model_that_refuses_8k_gets_its_audio_resampled(model, speech, tmp_path):
    """A 16 kHz model without --allow-upsample (as production models may be): the 8 kHz
    telephone audio is resampled (soxr) and decodes as before."""
    strict = tmp_path / "strict-model"
    shutil.copytree(korean_model_path(), strict, symlinks=True,
                    ignore=shutil.ignore_patterns("mfcc.conf"))
    (strict / "conf" / "mfcc.conf").write_text(
        "--sample-frequency=16000\n--use-energy=false\n--num-mel-bins=40\n--num-ceps=40\n"
        "--low-freq=20\n--high-freq=7600\n")
    loaded = load_model(strict)
    assert loaded.features.decode_rate(8000) == 16000
    heard, _ = decode(loaded, speech[8000], grammar=[GREETING, THANKS])
    assert " ".join(h.text for h in heard if isinstance(h, Final)) == (
        f"{GREETING} {THANKS} {GREETING}")


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "nowhere", "no such model directory"),
    (lambda p: p, "not a Vosk model"),
])
def test_a_bad_model_directory_is_named_before_vosk_crashes(tmp_path, make, message):
    with pytest.raises(ModelError, match=message):
        load_model(make(tmp_path))


def test_files_good_corrupt_empty_and_stereo(model, speech, tmp_path):
    finals, seconds = transcribe_file(model, speech[8000])
    assert finals and 4 < seconds < 8
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(AudioFileError, match="not an audio file"):
        read_audio(corrupt)
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(AudioFileError, match="empty file"):
        read_audio(empty)
    # A stereo recording is mixed down, not read as double speed
    pcm, rate = pcm_of(speech[8000])
    mono = np.frombuffer(pcm, dtype=np.int16)
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.stack([mono, mono], axis=1).tobytes())
    assert read_audio(stereo) == (pcm, rate)


async def test_the_pool_decodes_off_the_loop_and_bounds_live_streams(model, speech):
    pool = DecoderPool(model, workers=2, live_streams=2)
    try:
        pcm, rate = pcm_of(speech[8000])
        with pool.live_slot() as first, pool.live_slot() as second, \
                pool.live_slot() as third:
            assert (first, second, third) == (True, True, False)
            assert pool.stats.live == 2 and pool.stats.refused == 1
        assert pool.stats.live == 0

        async def stream():
            decoder = await pool.decoder(rate, [GREETING, THANKS])
            heard = []
            for at in range(0, len(pcm), 3200):
                heard += await pool.feed(decoder, pcm[at:at + 3200])
            return [h.text for h in heard + await pool.finish(decoder)
                    if isinstance(h, Final)]

        ticks = 0

        async def ticker():  # the loop stays free while two streams decode
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        results = await asyncio.gather(stream(), stream())
        beat.cancel()
        assert results == [[f"{GREETING} {THANKS} {GREETING}"]] * 2
        assert ticks > 5
    finally:
        pool.close()

"""The pure parts of speech: a model's front-end settings, readable text, the transcript."""

import pytest

from recognizer.model import FeatureConf, ModelError, feature_conf
from recognizer.stream import Final
from recognizer.text import tidy
from recognizer.transcript import in_order, render, segments_of


def test_a_model_trained_at_16k_that_may_upsample_takes_8k_as_it_is():
    conf = feature_conf("--use-energy=false\n--allow-upsample=true\n--allow-downsample=true\n")
    assert conf == FeatureConf(16000, True, True)
    assert conf.decode_rate(8000) == 8000


def test_a_model_that_may_not_upsample_gets_8k_resampled_to_its_rate():
    conf = feature_conf("--sample-frequency=16000\n--num-mel-bins=40\n")
    assert conf.decode_rate(8000) == 16000
    assert conf.decode_rate(16000) == 16000


def test_an_8k_model_and_wideband_audio():
    assert feature_conf("--sample-frequency=8000").decode_rate(16000) == 8000
    assert feature_conf("--sample-frequency=8000\n--allow-downsample=true"
                        ).decode_rate(16000) == 16000


def test_a_bad_sample_rate_in_the_model_is_named():
    with pytest.raises(ModelError, match="sample-frequency"):
        feature_conf("--sample-frequency=fast")


@pytest.mark.parametrize(("raw", "shown"), [
    ("我 要 投诉", "我要投诉"),
    ("我 要 投诉 12345 热线", "我要投诉 12345 热线"),
    ("  查  进度 ", "查进度"),
    ("안녕하세요 감사합니다", "안녕하세요 감사합니다"),  # Korean keeps its spaces
    ("", ""),
])
def test_chinese_text_loses_the_spaces_between_words(raw, shown):
    assert tidy(raw) == shown


def test_the_transcript_puts_both_sides_in_time_order_with_chinese_names():
    caller = segments_of("caller", [Final(0.5, 2.0, "我要投诉", ()),
                                    Final(9.0, 10.0, "好的", ())])
    agent = segments_of("agent", [Final(3.0, 8.2, "您好，请讲", ())], offset=0.5)
    segments = in_order(caller, agent)
    assert [(s.side, s.start) for s in segments] == [
        ("caller", 0.5), ("agent", 3.5), ("caller", 9.0)]
    assert render(segments) == ("[00:00] 市民：我要投诉\n[00:03] 话务员：您好，请讲\n"
                                "[00:09] 市民：好的")
    assert segments[1].as_dict() == {"side": "agent", "start": 3.5, "end": 8.7,
                                     "text": "您好，请讲"}

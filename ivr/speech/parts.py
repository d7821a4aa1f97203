"""Speech's parts as the composition root wires them: with a model configured, ARI taps
stream each side of a call to the AudioSocket server, whose streams the speech service
decodes; without one, the service alone (it answers "asr": "off")."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.calls.call_log import CallLog
from ivr.settings import Settings
from ivr.speech.service import PublishToSeat, SpeechService
from ivr.speech.taps import APP as TAP_APP
from ivr.speech.taps import TapControl
from ivr.telephony.ari_client import AriClient
from ivr.telephony.asterisk_config import ARI_USER, ari_password
from ivr.telephony.audiosocket import AudioSocketServer


@dataclass(frozen=True)
class SpeechParts:
    service: SpeechService
    ari: AriClient | None = None
    audiosocket: AudioSocketServer | None = None


def speech_parts(settings: Settings, call_log: CallLog, publish: PublishToSeat) -> SpeechParts:
    """Reads the ARI password (one small file) when speech is on: call it before the
    service takes calls."""
    if settings.vosk_model is None:
        return SpeechParts(SpeechService(None, call_log, workers=settings.asr_workers,
                                         live_streams=settings.asr_live_streams,
                                         publish=publish))
    ari = AriClient(settings.local_host, settings.ari_port, ARI_USER, ari_password(settings),
                    TAP_APP)
    taps = TapControl(ari, settings.local_host, settings.audiosocket_port)
    ari.on_event = taps.on_event
    service = SpeechService(settings.vosk_model, call_log, workers=settings.asr_workers,
                            live_streams=settings.asr_live_streams, taps=taps,
                            publish=publish, endpoint_seconds=settings.asr_endpoint_seconds)
    return SpeechParts(service, ari, AudioSocketServer(service.claim, settings.bind,
                                                      settings.audiosocket_port))

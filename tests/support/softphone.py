"""A real softphone (pjsua2, null sound device) that calls a number, records what it hears
to a WAV, optionally keys digits, and hangs up: `python -m tests.support.softphone
SIP_PORT NUMBER OUT.wav SECONDS [DIGITS_AT:DIGITS]`. A subprocess of the test, so pjsua2's
own threads and its bundled libraries stay out of pytest."""

from __future__ import annotations

import sys
import time

import pjsua2 as pj

from tests.support.sipp import free_udp_port


class Call(pj.Call):
    def __init__(self, account: pj.Account, out: str) -> None:
        super().__init__(account)
        self.out = out
        self.recorder: pj.AudioMediaRecorder | None = None
        self.ended = False

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        info = self.getInfo()
        for n, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and self.recorder is None and (
                    media.status == pj.PJSUA_CALL_MEDIA_ACTIVE):
                self.recorder = pj.AudioMediaRecorder()
                self.recorder.createRecorder(self.out)
                self.getAudioMedia(n).startTransmit(self.recorder)

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True


def main(sip_port: int, number: str, out: str, seconds: float, keys: str = "") -> int:
    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 1
    config.medConfig.noVad = True
    config.logConfig.level = 1
    config.logConfig.consoleLevel = 1
    endpoint.libInit(config)
    transport = pj.TransportConfig()
    transport.port = free_udp_port()
    transport.boundAddress = "127.0.0.1"
    endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    endpoint.libStart()
    endpoint.audDevManager().setNullDev()
    account_config = pj.AccountConfig()
    account_config.idUri = "sip:13900000999@127.0.0.1"
    account_config.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    account = pj.Account()
    account.create(account_config)
    call = Call(account, out)
    call.makeCall(f"sip:{number}@127.0.0.1:{sip_port}", pj.CallOpParam(True))
    started = time.monotonic()
    at, _, digits = keys.partition(":")
    keyed = not digits
    while time.monotonic() - started < seconds and not call.ended:
        endpoint.libHandleEvents(20)
        if not keyed and time.monotonic() - started >= float(at):
            call.dialDtmf(digits)
            keyed = True
    if not call.ended:
        call.hangup(pj.CallOpParam(True))
        for _ in range(50):
            endpoint.libHandleEvents(20)
    heard = call.recorder is not None
    call.recorder = None  # the recorder writes the WAV's sizes when it is destroyed
    del call
    endpoint.libDestroy()
    return 0 if heard else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(int(args[0]), args[1], args[2], float(args[3]), *args[4:5]))

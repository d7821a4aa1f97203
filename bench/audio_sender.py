"""Asterisk's side of the speech benchmark's taps, in a process of its own so its CPU is
not counted as the pipeline's: reads a stream id per line on stdin and sends the clip
(a raw 8 kHz 16-bit file) to the AudioSocket server as that stream, 20 ms frames at real
time, each stream on its own thread, REPEAT times in a row. Prints "done" once every
stream named has ended and stdin is closed. `python -m bench.audio_sender PORT CLIP.raw
[REPEAT]`"""

from __future__ import annotations

import socket
import sys
import threading
import time
import uuid
from pathlib import Path

from ivr.telephony.audiosocket import frame


def send(port: int, pcm: bytes, stream_id: str) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(frame(0x01, uuid.UUID(stream_id).bytes))
        started = time.monotonic()
        for n, at in enumerate(range(0, len(pcm), 320)):
            time.sleep(max(0.0, started + n * 0.02 - time.monotonic()))
            connection.sendall(frame(0x10, pcm[at:at + 320]))
        time.sleep(0.5)


def main() -> int:
    port, pcm = int(sys.argv[1]), Path(sys.argv[2]).read_bytes()
    pcm *= int(sys.argv[3]) if len(sys.argv) > 3 else 1
    threads = []
    for line in sys.stdin:
        thread = threading.Thread(target=send, args=(port, pcm, line.strip()))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

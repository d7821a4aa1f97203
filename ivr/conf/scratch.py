"""A scratch Asterisk judges a staged configuration before the live one sees it: the
same binary and modules, its own files, ports and run directory under a temporary root,
started, asked what it loaded, stopped (a third of a second to boot here).

Its complaints come back as findings at the admin's file and line when the file is
theirs ($HOTLINE_HOME/conf/asterisk/NAME), at the repo's template otherwise.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ivr.conf.check import Finding
from ivr.conf.dialplan import Complaint, judge
from ivr.errors import HotlineError
from ivr.settings import Settings
from ivr.telephony.asterisk_config import (
    TEMPLATE_DIR,
    AsteriskLayout,
    prepare_data_dir,
    render_all,
    template_values,
    with_overrides,
    write_config,
)
from ivr.telephony.asterisk_process import AsteriskInstall, AsteriskProcess

BOOT_SECONDS = 30.0


def staged_files(settings: Settings, layout_root: Path, install: AsteriskInstall,
                 overrides: Mapping[str, str], *, secret: str, ari_password: str,
                 staffed: bool = True) -> dict[str, str]:
    """The Asterisk files a configuration renders to, for the instance under layout_root."""
    values = template_values(settings, install.layout(layout_root), secret, staffed=staffed,
                             ari_password=ari_password)
    return with_overrides(render_all(values), dict(overrides), values)


async def scratch_check(settings: Settings, overrides: Mapping[str, str],
                        conf_asterisk_dir: Path) -> list[Finding]:
    """Load the templates with `overrides` (name → text) in a scratch Asterisk; what it
    refused, what it skipped, applications it does not have, contexts missing."""
    install = AsteriskInstall.locate(settings.asterisk_root)
    with tempfile.TemporaryDirectory(prefix="hotline-scratch-") as root:
        rtp = _free("udp") & ~1
        scratch = settings.model_copy(update={
            "home": Path(root), "bind": "127.0.0.1", "sip_port": _free("udp"),
            "ami_port": _free("tcp"), "ari_port": _free("tcp"), "agi_port": _free("tcp"),
            "rtp_ports": (rtp, rtp + 40)})
        layout = install.layout(Path(root) / "asterisk")
        files = staged_files(scratch, layout.root, install, overrides, secret="scratch",
                             ari_password="scratch")
        await asyncio.to_thread(_lay_out, layout, files, scratch.sounds_dir)
        process = AsteriskProcess(install, layout)
        try:
            await process.start(BOOT_SECONDS)
            dialplan = await process.rx("dialplan show")
            known = await process.rx("core show applications")
        except HotlineError as exc:
            return [Finding(conf_asterisk_dir, 1, f"试加载用的 Asterisk 无法加载这份配置："
                                                  f"{exc} — 请检查 Asterisk 文件")]
        finally:
            await process.stop()
        log_text = await asyncio.to_thread(
            (layout.log_dir / "messages.log").read_text, errors="replace")
    return [_finding(c, overrides, conf_asterisk_dir)
            for c in judge(dialplan, known, log_text, files)]


def _lay_out(layout: AsteriskLayout, files: dict[str, str], sounds_dir: Path) -> None:
    write_config(layout, files)
    (sounds_dir / "zh").mkdir(parents=True, exist_ok=True)
    prepare_data_dir(layout, sounds_dir)


def _finding(complaint: Complaint, overrides: Mapping[str, str], conf_dir: Path) -> Finding:
    where = conf_dir / complaint.file if complaint.file in overrides \
        else TEMPLATE_DIR / complaint.file
    return Finding(where, max(1, complaint.line), complaint.message)


def _free(kind: str) -> int:
    """A port nothing listens on now, for a scratch instance that lives a second."""
    with socket.socket(socket.AF_INET,
                       socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

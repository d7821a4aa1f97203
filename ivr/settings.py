"""Settings from the environment (CONTRACT.md); every default binds to loopback."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import ConfigurationError


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise ConfigurationError(f"{name} must be between 1 and 65535, got {port}")
    return port


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {value}")
    return value


def _whole_seconds(env: dict[str, str], name: str, default: int) -> int:
    """Asterisk's queue options take whole seconds, at least 5 (less would talk over itself)."""
    value = _seconds(env, name, default)
    if value != int(value) or value < 5:
        raise ConfigurationError(f"{name} must be a whole number of seconds, at least 5, "
                                 f"got {env.get(name)!r}")
    return int(value)


def _rtp_ports(env: dict[str, str], sip_port: int) -> tuple[int, int]:
    raw = env.get("HOTLINE_RTP_PORTS")
    if not raw:
        # 2000 ports (1000 call legs) in a window picked by the SIP port, so instances on
        # different SIP ports (tests, benchmarks) never compete for RTP ports.
        start = 10000 + (sip_port % 20) * 2000
        return start, start + 1999
    low, sep, high = raw.partition("-")
    try:
        ports = int(low), int(high)
    except ValueError:
        raise ConfigurationError(f"HOTLINE_RTP_PORTS must be LOW-HIGH, got {raw!r}") from None
    if not sep or not 1024 <= ports[0] < ports[1] < 65536 or ports[1] - ports[0] < 19:
        raise ConfigurationError(f"HOTLINE_RTP_PORTS must be LOW-HIGH within 1024-65535 "
                                 f"and span at least 20 ports, got {raw!r}")
    return ports


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    bind: str
    sip_port: int
    ami_port: int
    agi_port: int
    web_port: int
    trunk: str
    downstream_url: str | None
    # How long a caller may spend in the Python IVR before the dialplan takes them to the
    # operator queue anyway: the guard against an AGI server that is up but stuck.
    ivr_max_seconds: float
    # A blocked event loop for this long hands every IVR caller back to the dialplan.
    loop_stall_seconds: float
    # Ticket rules: a city preset (tickets/rules.py), the local time zone for working days,
    # and an optional TOML of holidays/make-up workdays for years chinese-calendar lacks.
    city: str = "mengcheng"
    timezone: str = "Asia/Shanghai"
    calendar_file: Path | None = None
    # RTP ports for Asterisk: each call leg takes two (RTP and RTCP).
    rtp_ports: tuple[int, int] = (10000, 11999)
    queue_name: str = "hotline"
    # Outside staffed hours the night seats' queue takes the calls (ivr/schedule/hours.py).
    night_queue_name: str = "hotline-night"
    schedule_file: Path | None = None
    # The queue, as a citizen meets it: how long a seat rings before the next one is tried,
    # how often the position and estimated wait are announced, and after how long (and how
    # often) the waiting caller is offered 1 = callback, 2 = message.
    queue_ring_seconds: int = 20
    queue_announce_seconds: int = 30
    queue_offer_seconds: int = 45

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("HOTLINE_HOME", "./var")).resolve()
        trunk = env.get("HOTLINE_TRUNK", "127.0.0.1:5080")
        if ":" not in trunk:
            raise ConfigurationError(f"HOTLINE_TRUNK must be HOST:PORT, got {trunk!r}")
        return cls(
            home=home,
            db_url=env.get("HOTLINE_DB_URL") or f"sqlite+aiosqlite:///{home / 'hotline.db'}",
            bind=env.get("HOTLINE_BIND", "127.0.0.1"),
            sip_port=_port(env, "HOTLINE_SIP_PORT", 5060),
            ami_port=_port(env, "HOTLINE_AMI_PORT", 5038),
            agi_port=_port(env, "HOTLINE_AGI_PORT", 4573),
            web_port=_port(env, "HOTLINE_WEB_PORT", 8080),
            trunk=trunk,
            downstream_url=env.get("HOTLINE_DOWNSTREAM_URL") or None,
            ivr_max_seconds=_seconds(env, "HOTLINE_IVR_MAX_SECONDS", 300),
            loop_stall_seconds=_seconds(env, "HOTLINE_LOOP_STALL_SECONDS", 5),
            rtp_ports=_rtp_ports(env, sip_port=_port(env, "HOTLINE_SIP_PORT", 5060)),
            city=env.get("HOTLINE_CITY", "mengcheng"),
            timezone=env.get("HOTLINE_TIMEZONE", "Asia/Shanghai"),
            calendar_file=Path(env["HOTLINE_CALENDAR_FILE"]) if env.get(
                "HOTLINE_CALENDAR_FILE") else None,
            schedule_file=Path(env["HOTLINE_SCHEDULE_FILE"]) if env.get(
                "HOTLINE_SCHEDULE_FILE") else None,
            queue_ring_seconds=_whole_seconds(env, "HOTLINE_QUEUE_RING_SECONDS", 20),
            queue_announce_seconds=_whole_seconds(env, "HOTLINE_QUEUE_ANNOUNCE_SECONDS", 30),
            queue_offer_seconds=_whole_seconds(env, "HOTLINE_QUEUE_OFFER_SECONDS", 45),
        )

    @property
    def local_host(self) -> str:
        """Where our own processes reach each other's listeners."""
        return "127.0.0.1" if self.bind in ("0.0.0.0", "") else self.bind

    @property
    def trunk_host(self) -> str:
        return self.trunk.rsplit(":", 1)[0]

    @property
    def schedule_path(self) -> Path:
        """Staffed hours (TOML); without the file, the city's preset (7×24 for most)."""
        return self.schedule_file or self.home / "schedule.toml"

    @property
    def asterisk_dir(self) -> Path:
        return self.home / "asterisk"

    @property
    def recordings_dir(self) -> Path:
        return self.home / "recordings"

    @property
    def sounds_dir(self) -> Path:
        """Rendered prompts, 8 kHz mono WAV, played by absolute path."""
        return self.home / "sounds"

    @property
    def recorded_prompts_dir(self) -> Path:
        """Where an admin drops a studio recording `<prompt id>.wav` to replace a synthetic one."""
        return self.home / "prompts"

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

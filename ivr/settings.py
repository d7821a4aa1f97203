"""Settings from the environment (README "Configuration"); every default binds to loopback.

Each setting is declared once below, as a pydantic-settings field: its name gives the
variable (`sip_port` is HOTLINE_SIP_PORT), its default is written there and only there, and
its type says what a good value is. `Settings.from_env` is the edge where the service starts:
it turns pydantic's ValidationError into one ConfigurationError naming each bad variable,
and warns about HOTLINE_* variables that are no setting (a typo would otherwise be ignored).
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, ClassVar, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, FiniteFloat, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ivr.errors import ConfigurationError
from ivr.log_format import LogFormat
from tickets.rules import PRESETS as CITY_PRESETS

log = logging.getLogger(__name__)

PREFIX = "HOTLINE_"


# Validators raise ValueError("must be ..., got ..."); from_env prefixes the variable's name.

def _port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise ValueError(f"must be between 1 and 65535, got {port}")
    return port


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be positive, got {value:g}")
    return value


def _queue_seconds(value: int) -> int:
    # Asterisk's queue options take whole seconds; under 5 the announcements talk over
    # each other.
    if value < 5:
        raise ValueError(f"must be a whole number of seconds, at least 5, got {value}")
    return value


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"must be HOST:PORT, got {value!r}")
    return value


def _port_range(value: object) -> object:
    """LOW-HIGH from the environment; a pair given in code passes through."""
    if not isinstance(value, str):
        return value
    low, sep, high = value.partition("-")
    if not (sep and low.strip().isdigit() and high.strip().isdigit()):
        raise ValueError(f"must be LOW-HIGH, got {value!r}")
    return int(low), int(high)


def _rtp_window(ports: tuple[int, int]) -> tuple[int, int]:
    # Each call leg takes two ports (RTP and RTCP): 20 ports are ten legs, the least useful.
    low, high = ports
    if not 1024 <= low < high <= 65535 or high - low < 19:
        raise ValueError(f"must be LOW-HIGH within 1024-65535 and span at least 20 ports, "
                         f"got {low}-{high}")
    return ports


def _default_rtp_window(sip_port: int) -> tuple[int, int]:
    # 2000 ports (1000 call legs) in a window picked by the SIP port, so instances on
    # different SIP ports (tests, benchmarks) never compete for RTP ports.
    start = 10000 + (sip_port % 20) * 2000
    return start, start + 1999


def _log_level(name: str) -> str:
    level = name.upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError(f"must be one of {', '.join(logging.getLevelNamesMapping())}, "
                         f"got {name!r}")
    return level


def _log_format(name: object) -> object:
    fmt = name.lower() if isinstance(name, str) else name
    if fmt not in get_args(LogFormat):
        raise ValueError(f"must be {' or '.join(get_args(LogFormat))}, got {name!r}")
    return fmt


def _city(city: str) -> str:
    if city not in CITY_PRESETS:
        raise ValueError(f"must be one of {', '.join(CITY_PRESETS)}, got {city!r}")
    return city


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone such as Asia/Shanghai, got {name!r}") from None
    return name


Port = Annotated[int, AfterValidator(_port)]
Seconds = Annotated[FiniteFloat, AfterValidator(_positive)]
QueueSeconds = Annotated[int, AfterValidator(_queue_seconds)]
# NoDecode: the variable is LOW-HIGH, not the JSON pydantic-settings expects for a tuple.
PortRange = Annotated[tuple[int, int], NoDecode, BeforeValidator(_port_range),
                      AfterValidator(_rtp_window)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        frozen=True,
        validate_default=True,  # defaults go through the same checks (HOTLINE_HOME resolved)
        env_ignore_empty=True,  # `HOTLINE_X=` means unset, as it does for the shell's ${X:-…}
        extra="forbid",
    )

    home: Annotated[Path, AfterValidator(Path.resolve)] = Path("var")
    db_url: str = Field(
        default_factory=lambda s: f"sqlite+aiosqlite:///{s['home'] / 'hotline.db'}")
    bind: str = "127.0.0.1"
    sip_port: Port = 5060
    ami_port: Port = 5038
    agi_port: Port = 4573
    web_port: Port = 8080
    # Asterisk's ARI (its HTTP server), and where Asterisk streams call audio to us
    # (AudioSocket), for live transcripts (ivr/speech/).
    ari_port: Port = 8088
    audiosocket_port: Port = 4575
    trunk: Annotated[str, AfterValidator(_host_port)] = "127.0.0.1:5080"
    downstream_url: str | None = None
    # How long a caller may spend in the Python IVR before the dialplan takes them to the
    # operator queue anyway: the guard against an AGI server that is up but stuck.
    ivr_max_seconds: Seconds = 300
    # A blocked event loop for this long hands every IVR caller back to the dialplan.
    loop_stall_seconds: Seconds = 5
    # Ticket rules: a city preset (tickets/rules.py), the local time zone for working days,
    # and an optional TOML of holidays/make-up workdays for years chinese-calendar lacks.
    city: Annotated[str, AfterValidator(_city)] = "mengcheng"
    timezone: Annotated[str, AfterValidator(_timezone)] = "Asia/Shanghai"
    calendar_file: Path | None = None
    # RTP ports for Asterisk; unset, a window picked by the SIP port.
    rtp_ports: PortRange = Field(default_factory=lambda s: _default_rtp_window(s["sip_port"]))
    # Staffed hours (ivr/schedule/hours.py); unset, $HOTLINE_HOME/schedule.toml.
    schedule_file: Path | None = None
    # The queue, as a citizen meets it: how long a seat rings before the next one is tried,
    # how often the position and estimated wait are announced, and after how long (and how
    # often) the waiting caller is offered 1 = callback, 2 = message.
    queue_ring_seconds: QueueSeconds = 20
    queue_announce_seconds: QueueSeconds = 30
    queue_offer_seconds: QueueSeconds = 45
    # Transfers (ivr/transfers/): how long a unit's phone rings before the leg counts as not
    # answered, and how long a citizen may hold while the operator consults the unit
    # before the operator is brought back to them.
    transfer_ring_seconds: QueueSeconds = 30
    transfer_hold_limit_seconds: QueueSeconds = 180
    # Speech (recognizer/): a Vosk model directory; unset, speech is off and nothing else
    # changes. Decoding threads, and how many streams are decoded live (more than the
    # threads hold in real time and every stream falls behind; the surplus is transcribed
    # after the call instead): size both with `make bench` (bench/speech_throughput.py).
    vosk_model: Path | None = None
    asr_workers: Annotated[int, Field(ge=1, le=64)] = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1))
    asr_live_streams: Annotated[int, Field(ge=0, le=256)] = 4
    # How long a pause in the voice ends a live sentence, so its final text comes
    # (recognizer/pauses.py; the model's own rules are set to it too). Shorter: text
    # sooner, long sentences cut at their pauses.
    asr_endpoint_seconds: Annotated[float, Field(ge=0.1, le=5)] = 0.25
    log_level: Annotated[str, AfterValidator(_log_level)] = "INFO"
    # text: the lines as a person reads them; json: one object a line, with the call id,
    # for a log collector (ivr/log_format.py).
    log_format: Annotated[LogFormat, BeforeValidator(_log_format)] = "text"
    # The chroot scripts/install-system.sh unpacks Asterisk into (its default mirrors this).
    asterisk_root: Path = Path("/opt/hotline-asterisk-22")
    # Also load the pure-dialplan benchmark menu (12399); `hotline run --bench-dialplan`.
    bench_dialplan: bool = False

    # Names the dialplan templates, the seats in the database and Asterisk share: constants,
    # not an admin's choice, so no variable sets them.
    queue_name: ClassVar[str] = "hotline"
    # Outside staffed hours the night seats' queue takes the calls (ivr/schedule/hours.py).
    night_queue_name: ClassVar[str] = "hotline-night"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in env (None: os.environ); ConfigurationError names each bad one."""
        environ = os.environ if env is None else env
        _warn_unknown(environ)
        try:
            with _reading(environ):
                return cls()
        except ValidationError as exc:
            raise ConfigurationError(describe_errors(exc)) from None

    @classmethod
    def env_name(cls, field: str) -> str:
        return f"{PREFIX}{field.upper()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment is the one place settings come from: no .env file, no secrets dir
        # (the AMI secret is generated under $HOTLINE_HOME/secrets, not configured).
        environ = _ENVIRON.get()
        if environ is not None:
            env_settings = _MappingEnvSource(settings_cls, environ)
        return init_settings, env_settings

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
    def conf_dir(self) -> Path:
        """What an admin edits (the menu…), applied with `hotline conf apply` (ivr/conf/)."""
        return self.home / "conf"

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


# from_env reads a mapping the caller gives (tests build one per stack); pydantic-settings
# builds its sources without arguments, so the mapping reaches settings_customise_sources
# this way, for the one construction from_env makes.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("hotline_environ", default=None)


@contextmanager
def _reading(environ: Mapping[str, str]) -> Iterator[None]:
    token = _ENVIRON.set(environ)
    try:
        yield
    finally:
        _ENVIRON.reset(token)


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping, not os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # The same normalisation the library applies to os.environ (case, empty = unset).
        return {(key if self.case_sensitive else key.lower()): value
                for key, value in self._environ.items()
                if not (self.env_ignore_empty and value == "")}


# What a value of pydantic's own types must look like, for its parse errors.
_EXPECTED = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "1 or 0 (true/false, yes/no)",
    "path_type": "a file path",
}


def describe_errors(exc: ValidationError) -> str:
    """One line: `HOTLINE_X must be …, got …` for each bad variable."""
    problems = []
    for error in exc.errors():
        if error["type"] == "default_factory_not_called":
            continue  # a derived default; the variable it derives from is reported
        name = Settings.env_name(str(error["loc"][0])) if error["loc"] else "settings"
        if error["type"] == "value_error":
            problems.append(f"{name} {error['ctx']['error']}")
        elif error["type"] in _EXPECTED:
            problems.append(f"{name} must be {_EXPECTED[error['type']]}, "
                            f"got {error['input']!r}")
        else:
            problems.append(f"{name}: {error['msg']}, got {error['input']!r}")
    return "; ".join(problems)


def _warn_unknown(environ: Mapping[str, str]) -> None:
    known = [Settings.env_name(field) for field in Settings.model_fields]
    for name in sorted(environ):
        if name.startswith(PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            log.warning("%s is not a hotline setting%s; it is ignored", name, hint)


"""Settings: declared once, defaults written once, bad values refused naming the variable."""

import itertools
import logging
import os
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from ivr.errors import ConfigurationError
from ivr.settings import Settings
from ivr.settings_report import as_env, hide_secrets, report
from ivr.telephony.asterisk_process import AsteriskInstall
from tests.support.stack import HOTLINE

ROOT = Path(__file__).resolve().parents[2]

# The table of README "Configuration", as each variable spells it.
DEFAULTS = {
    "HOTLINE_BIND": "127.0.0.1",
    "HOTLINE_SIP_PORT": "5060",
    "HOTLINE_AMI_PORT": "5038",
    "HOTLINE_AGI_PORT": "4573",
    "HOTLINE_WEB_PORT": "8080",
    "HOTLINE_ARI_PORT": "8088",
    "HOTLINE_AUDIOSOCKET_PORT": "4575",
    "HOTLINE_TRUNK": "127.0.0.1:5080",
    "HOTLINE_DOWNSTREAM_URL": "",
    "HOTLINE_IVR_MAX_SECONDS": "300",
    "HOTLINE_LOOP_STALL_SECONDS": "5",
    "HOTLINE_CITY": "mengcheng",
    "HOTLINE_TIMEZONE": "Asia/Shanghai",
    "HOTLINE_CALENDAR_FILE": "",
    "HOTLINE_RTP_PORTS": "10000-11999",
    "HOTLINE_SCHEDULE_FILE": "",
    "HOTLINE_QUEUE_RING_SECONDS": "20",
    "HOTLINE_QUEUE_ANNOUNCE_SECONDS": "30",
    "HOTLINE_QUEUE_OFFER_SECONDS": "45",
    "HOTLINE_TRANSFER_RING_SECONDS": "30",
    "HOTLINE_TRANSFER_HOLD_LIMIT_SECONDS": "180",
    "HOTLINE_VOSK_MODEL": "",
    "HOTLINE_ASR_WORKERS": str(os.cpu_count()),  # one decoding thread per core
    "HOTLINE_ASR_LIVE_STREAMS": "4",
    "HOTLINE_ASR_ENDPOINT_SECONDS": "0.25",
    "HOTLINE_LOG_LEVEL": "INFO",
    "HOTLINE_LOG_FORMAT": "text",
    "HOTLINE_ASTERISK_ROOT": "/opt/hotline-asterisk-22",
    "HOTLINE_BENCH_DIALPLAN": "0",
}


@pytest.fixture
def no_hotline_environ(monkeypatch, tmp_path):
    """os.environ without HOTLINE_*, the working directory an empty tmp dir."""
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_are_the_declared_ones_whichever_way_settings_are_made(no_hotline_environ):
    settings = Settings.from_env({})
    assert Settings() == settings == Settings.from_env(None)
    values = {Settings.env_name(f): as_env(getattr(settings, f)) for f in Settings.model_fields}
    home = no_hotline_environ / "var"
    assert values == {**DEFAULTS, "HOTLINE_HOME": str(home),
                      "HOTLINE_DB_URL": f"sqlite+aiosqlite:///{home / 'hotline.db'}"}


def test_a_given_mapping_is_read_instead_of_the_process_environment(monkeypatch):
    monkeypatch.setenv("HOTLINE_SIP_PORT", "5999")
    assert Settings.from_env({}).sip_port == 5060
    assert Settings.from_env(None).sip_port == Settings().sip_port == 5999
    assert Settings.from_env({"HOTLINE_SIP_PORT": "5070"}).sip_port == 5070


def test_home_is_absolute_and_the_database_lives_there_unless_set(no_hotline_environ):
    settings = Settings.from_env({"HOTLINE_HOME": "rel/home"})
    assert settings.home == no_hotline_environ / "rel/home"
    assert settings.db_url == f"sqlite+aiosqlite:///{settings.home / 'hotline.db'}"
    url = "postgresql+asyncpg://hotline:pw@db/hotline"
    assert Settings.from_env({"HOTLINE_DB_URL": url}).db_url == url


def test_an_empty_variable_counts_as_unset(no_hotline_environ):
    assert Settings.from_env({"HOTLINE_DB_URL": "", "HOTLINE_SIP_PORT": "",
                              "HOTLINE_RTP_PORTS": ""}) == Settings.from_env({})


def test_values_are_typed():
    settings = Settings.from_env({"HOTLINE_LOG_LEVEL": "debug", "HOTLINE_BENCH_DIALPLAN": "1",
                                  "HOTLINE_LOG_FORMAT": "JSON",
                                  "HOTLINE_IVR_MAX_SECONDS": "4.5",
                                  "HOTLINE_CALENDAR_FILE": "/etc/holidays.toml",
                                  "HOTLINE_ASTERISK_ROOT": "/srv/asterisk"})
    assert settings.log_level == "DEBUG"
    assert settings.log_format == "json"
    assert settings.bench_dialplan is True
    assert settings.ivr_max_seconds == 4.5
    assert settings.calendar_file == Path("/etc/holidays.toml")
    assert settings.asterisk_root == Path("/srv/asterisk")
    assert Settings.from_env({"HOTLINE_BENCH_DIALPLAN": "0"}).bench_dialplan is False


def test_settings_are_immutable():
    settings = Settings.from_env({})
    with pytest.raises(ValidationError, match="frozen"):
        settings.sip_port = 5070  # type: ignore[misc]


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HOTLINE_SIP_PORT", "70000", "HOTLINE_SIP_PORT must be between 1 and 65535, got 70000"),
    ("HOTLINE_AMI_PORT", "0", "HOTLINE_AMI_PORT must be between 1 and 65535, got 0"),
    ("HOTLINE_AGI_PORT", "sixty", "HOTLINE_AGI_PORT must be a whole number, got 'sixty'"),
    ("HOTLINE_WEB_PORT", "-1", "HOTLINE_WEB_PORT must be between 1 and 65535, got -1"),
    ("HOTLINE_TRUNK", "127.0.0.1", "HOTLINE_TRUNK must be HOST:PORT, got '127.0.0.1'"),
    ("HOTLINE_TRUNK", "host:99999", "HOTLINE_TRUNK must be HOST:PORT"),
    ("HOTLINE_IVR_MAX_SECONDS", "0", "HOTLINE_IVR_MAX_SECONDS must be positive, got 0"),
    ("HOTLINE_LOOP_STALL_SECONDS", "soon", "HOTLINE_LOOP_STALL_SECONDS must be a number"),
    ("HOTLINE_IVR_MAX_SECONDS", "inf", "HOTLINE_IVR_MAX_SECONDS must be a finite number"),
    ("HOTLINE_QUEUE_RING_SECONDS", "4",
     "HOTLINE_QUEUE_RING_SECONDS must be a whole number of seconds, at least 5, got 4"),
    ("HOTLINE_QUEUE_ANNOUNCE_SECONDS", "12.5",
     "HOTLINE_QUEUE_ANNOUNCE_SECONDS must be a whole number, got '12.5'"),
    ("HOTLINE_RTP_PORTS", "20000", "HOTLINE_RTP_PORTS must be LOW-HIGH, got '20000'"),
    ("HOTLINE_RTP_PORTS", "20000-20010", "span at least 20 ports, got 20000-20010"),
    ("HOTLINE_RTP_PORTS", "80-2000", "HOTLINE_RTP_PORTS must be LOW-HIGH within 1024-65535"),
    ("HOTLINE_RTP_PORTS", "30000-20000", "HOTLINE_RTP_PORTS must be LOW-HIGH within"),
    ("HOTLINE_LOG_LEVEL", "LOUD", "HOTLINE_LOG_LEVEL must be one of CRITICAL"),
    ("HOTLINE_LOG_FORMAT", "xml", "HOTLINE_LOG_FORMAT must be text or json, got 'xml'"),
    ("HOTLINE_BENCH_DIALPLAN", "maybe", "HOTLINE_BENCH_DIALPLAN must be 1 or 0"),
    ("HOTLINE_CITY", "atlantis", "HOTLINE_CITY must be one of mengcheng, lanxi"),
    ("HOTLINE_TIMEZONE", "Mars/Olympus", "HOTLINE_TIMEZONE must be an IANA time zone"),
])
def test_a_bad_value_is_refused_naming_the_variable(name, value, message):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({name: value})
    assert message in str(refused.value)
    assert str(refused.value).startswith(name)


def test_every_bad_value_is_named_on_one_line():
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({"HOTLINE_SIP_PORT": "70000", "HOTLINE_TRUNK": "nowhere"})
    message = str(refused.value)
    assert "\n" not in message
    assert "HOTLINE_SIP_PORT" in message and "HOTLINE_TRUNK" in message
    # the RTP window derives from the SIP port: its own default is not blamed as well
    assert "HOTLINE_RTP_PORTS" not in message


def test_the_rtp_window_is_derived_from_the_sip_port_unless_set():
    def window(sip_port: int) -> tuple[int, int]:
        return Settings.from_env({"HOTLINE_SIP_PORT": str(sip_port)}).rtp_ports

    assert window(5060) == (10000, 11999)
    assert window(5061) == (12000, 13999)
    windows = sorted(window(port) for port in range(5060, 5080))  # 20 neighbouring instances
    assert all(a[1] < b[0] for a, b in itertools.pairwise(windows))
    assert all(low >= 1024 and high <= 65535 and high - low + 1 == 2000 for low, high in windows)
    assert Settings.from_env({"HOTLINE_SIP_PORT": "5061",
                              "HOTLINE_RTP_PORTS": "20000-20019"}).rtp_ports == (20000, 20019)


def test_an_unknown_hotline_variable_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="ivr.settings"):
        settings = Settings.from_env({"HOTLINE_SIP_PROT": "5070", "PATH": "/bin"})
    assert settings.sip_port == 5060
    assert "HOTLINE_SIP_PROT is not a hotline setting (did you mean HOTLINE_SIP_PORT?)" \
        in caplog.text
    assert "PATH" not in caplog.text


def test_the_asterisk_root_setting_is_where_asterisk_is_looked_for(tmp_path):
    (tmp_path / "usr/sbin").mkdir(parents=True)
    (tmp_path / "usr/sbin/asterisk").touch()
    (tmp_path / "lib64").mkdir()
    (tmp_path / "lib64/ld-linux-x86-64.so.2").touch()
    settings = Settings.from_env({"HOTLINE_ASTERISK_ROOT": str(tmp_path)})
    install = AsteriskInstall.locate(settings.asterisk_root)
    assert install.command[0] == str(tmp_path / "lib64/ld-linux-x86-64.so.2")
    assert install.command[-1] == str(tmp_path / "usr/sbin/asterisk")


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+asyncpg://hotline:s3cret@db:5432/hotline",
     "postgresql+asyncpg://hotline:***@db:5432/hotline"),
    ("postgresql+asyncpg://hotline@db/hotline?password=s3cret&ssl=require",
     "postgresql+asyncpg://hotline@db/hotline?password=***&ssl=require"),
    ("https://bot:s3cret@tickets.example/events?token=s3cret",
     "https://bot:***@tickets.example/events?token=***"),
    ("https://tickets.example/events?city=mengcheng", "https://tickets.example/events?city=mengcheng"),
    ("sqlite+aiosqlite:////srv/hotline/hotline.db", "sqlite+aiosqlite:////srv/hotline/hotline.db"),
    ("127.0.0.1:5080", "127.0.0.1:5080"),
])
def test_secrets_in_urls_are_hidden(url, shown):
    assert hide_secrets(url) == shown


def test_the_report_names_every_setting_once():
    lines = report(Settings.from_env({"HOTLINE_SIP_PORT": "5070"}))
    names = [line.split("=", 1)[0] for line in lines]
    assert names == [Settings.env_name(field) for field in Settings.model_fields]
    assert "HOTLINE_SIP_PORT=5070  # environment" in lines
    assert "HOTLINE_WEB_PORT=8080  # default" in lines
    assert "HOTLINE_RTP_PORTS=30000-31999  # default" in lines  # derived from the SIP port


def run_hotline_settings(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, importing this checkout, in a clean environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ.update(PYTHONPATH=str(ROOT), HOTLINE_HOME=str(home), **env)
    return subprocess.run([HOTLINE, "settings"], env=environ, capture_output=True, text=True,
                          timeout=60)


def test_hotline_settings_prints_the_effective_values_with_secrets_hidden(tmp_path):
    done = run_hotline_settings(
        tmp_path, HOTLINE_SIP_PORT="5070",
        HOTLINE_DB_URL="postgresql+asyncpg://hotline:db-s3cret@db.example/hotline",
        HOTLINE_DOWNSTREAM_URL="https://bot:hook-s3cret@tickets.example/events")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(Settings.model_fields)
    assert f"HOTLINE_HOME={tmp_path}  # environment" in lines
    assert "HOTLINE_SIP_PORT=5070  # environment" in lines
    assert "HOTLINE_AMI_PORT=5038  # default" in lines
    assert "HOTLINE_DB_URL=postgresql+asyncpg://hotline:***@db.example/hotline  # environment" \
        in lines
    assert "HOTLINE_DOWNSTREAM_URL=https://bot:***@tickets.example/events  # environment" in lines
    assert "s3cret" not in done.stdout + done.stderr


def test_hotline_settings_refuses_a_bad_port_naming_it(tmp_path):
    done = run_hotline_settings(tmp_path, HOTLINE_SIP_PORT="70000")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "hotline: HOTLINE_SIP_PORT must be between 1 and 65535, got 70000\n"

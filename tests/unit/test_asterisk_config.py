"""Rendering asterisk_conf/ templates into a runtime tree."""

import re
from pathlib import Path

import pytest

from ivr.errors import ConfigurationError
from ivr.settings import Settings
from ivr.telephony.asterisk_config import (
    TEMPLATE_DIR,
    AsteriskLayout,
    ami_secret,
    render_all,
    render_template,
    template_values,
)


@pytest.fixture
def settings(tmp_path):
    return Settings.from_env({"HOTLINE_HOME": str(tmp_path), "HOTLINE_SIP_PORT": "5070",
                              "HOTLINE_TRUNK": "127.0.0.1:5090"})


@pytest.fixture
def rendered(settings, tmp_path):
    layout = AsteriskLayout(tmp_path / "asterisk", Path("/mods"), Path("/data"), Path("/sbin"))
    return render_all(template_values(settings, layout, "s3cret-value"))


def test_every_placeholder_is_filled(rendered):
    for name, text in rendered.items():
        assert "{{" not in text, f"{name} kept a placeholder"


def test_every_listener_is_on_loopback(rendered):
    assert "bind = 127.0.0.1:5070" in rendered["pjsip.conf"]
    assert "bindaddr = 127.0.0.1" in rendered["manager.conf"]
    assert "media_address = 127.0.0.1" in rendered["pjsip.conf"]
    assert "icesupport = no" in rendered["rtp.conf"]


def test_trunk_matches_and_dials_the_configured_address(rendered):
    pjsip = rendered["pjsip.conf"]
    assert "contact = sip:127.0.0.1:5090" in pjsip
    assert "match = 127.0.0.1" in pjsip


def test_ami_secret_comes_from_the_runtime_not_the_repository(rendered):
    assert "secret = s3cret-value" in rendered["manager.conf"]
    for template in TEMPLATE_DIR.glob("*.conf"):
        assert "s3cret" not in template.read_text()
        assert not re.search(r"^secret\s*=\s*\w", template.read_text(), re.M), template.name


def test_ami_secret_is_generated_once_and_private(settings):
    first = ami_secret(settings)
    assert len(first) >= 24
    assert ami_secret(settings) == first
    assert (settings.secrets_dir / "ami_secret").stat().st_mode & 0o077 == 0


def test_secrets_differ_between_installations(tmp_path):
    a = ami_secret(Settings.from_env({"HOTLINE_HOME": str(tmp_path / "a")}))
    b = ami_secret(Settings.from_env({"HOTLINE_HOME": str(tmp_path / "b")}))
    assert a != b


def test_bench_menu_only_when_asked(settings, tmp_path):
    layout = AsteriskLayout(tmp_path, Path("/m"), Path("/d"), Path("/s"))
    plain = render_all(template_values(settings, layout, "x"))["extensions.conf"]
    bench = render_all(template_values(settings, layout, "x", bench_dialplan=True))
    assert "extensions_bench_menu.conf" not in plain
    assert "#include extensions_bench_menu.conf" in bench["extensions.conf"]


def test_only_the_bench_render_holds_the_bench_menu():
    # Paths of their own: the test's tmp_path would carry "bench" in its name.
    settings = Settings.from_env({"HOTLINE_HOME": "/srv/hotline"})
    layout = AsteriskLayout(Path("/srv/hotline/asterisk"), Path("/m"), Path("/d"), Path("/s"))
    plain = render_all(template_values(settings, layout, "x"))
    bench = render_all(template_values(settings, layout, "x", bench_dialplan=True))
    assert not list(TEMPLATE_DIR.glob("*bench*")), "the bench menu is no production template"
    for name, text in plain.items():
        assert "12399" not in text and "bench" not in text.lower(), name
    menu = bench["extensions_bench_menu.conf"]
    assert "[hotline-inbound](+)\nexten => 12399,1," in menu
    assert "{{" not in menu
    # The bench adds its menu and its #include, and changes nothing else.
    assert set(bench) - set(plain) == {"extensions_bench_menu.conf"}
    assert {n: t for n, t in bench.items() if n in plain and n != "extensions.conf"} == {
        n: t for n, t in plain.items() if n != "extensions.conf"}
    assert bench["extensions.conf"].startswith(plain["extensions.conf"])


def test_dialplan_sends_every_ivr_failure_to_the_queue(rendered):
    ivr = rendered["extensions_ivr.conf"]
    assert 'GotoIf($["${AGISTATUS}" != "SUCCESS"]?fallback)' in ivr
    assert "exten => T," in ivr, "a stuck AGI must time out into the queue"
    assert ivr.rstrip().splitlines()[-1].strip().startswith("same => n,Goto(s,fallback)")
    assert "Goto(hotline-queue,s,1)" in ivr


def test_unknown_placeholder_is_an_error():
    with pytest.raises(ConfigurationError, match="nope"):
        render_template("x = {{nope}}", {}, "t.conf")


def test_settings_reject_bad_ports():
    with pytest.raises(ConfigurationError, match="HOTLINE_SIP_PORT"):
        Settings.from_env({"HOTLINE_SIP_PORT": "sixty"})
    with pytest.raises(ConfigurationError, match="HOTLINE_WEB_PORT"):
        Settings.from_env({"HOTLINE_WEB_PORT": "70000"})


def test_settings_defaults_follow_the_contract(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({})
    assert (s.bind, s.sip_port, s.ami_port, s.agi_port, s.web_port) == (
        "127.0.0.1", 5060, 5038, 4573, 8080)
    assert s.home == tmp_path / "var"
    assert s.db_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'hotline.db'}"
    assert s.trunk == "127.0.0.1:5080"


def test_rtp_ports_hold_hundreds_of_calls_and_can_be_set():
    default = Settings.from_env({"HOTLINE_SIP_PORT": "5060"}).rtp_ports
    assert default[1] - default[0] + 1 >= 2000
    other = Settings.from_env({"HOTLINE_SIP_PORT": "5061"}).rtp_ports
    assert other[0] > default[1] or other[1] < default[0], "instances must not overlap"
    assert Settings.from_env({"HOTLINE_RTP_PORTS": "20000-20999"}).rtp_ports == (20000, 20999)
    with pytest.raises(ConfigurationError, match="HOTLINE_RTP_PORTS"):
        Settings.from_env({"HOTLINE_RTP_PORTS": "20000"})


def test_the_queue_as_citizens_meet_it_is_configuration(tmp_path):
    settings = Settings.from_env({"HOTLINE_HOME": str(tmp_path),
                                  "HOTLINE_QUEUE_RING_SECONDS": "15",
                                  "HOTLINE_QUEUE_ANNOUNCE_SECONDS": "60",
                                  "HOTLINE_QUEUE_OFFER_SECONDS": "90"})
    layout = AsteriskLayout(tmp_path, Path("/m"), Path("/d"), Path("/s"))
    queues = render_all(template_values(settings, layout, "x"))["queues.conf"]
    for line in ("timeout = 15", "announce-frequency = 60", "periodic-announce-frequency = 90"):
        assert f"\n{line}\n" in queues
    for bad in ("2", "12.5", "soon"):
        with pytest.raises(ConfigurationError, match="HOTLINE_QUEUE_OFFER_SECONDS"):
            Settings.from_env({"HOTLINE_HOME": str(tmp_path), "HOTLINE_QUEUE_OFFER_SECONDS": bad})

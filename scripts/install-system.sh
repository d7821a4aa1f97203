#!/usr/bin/env bash
# Installs what the hotline needs from Debian's packages: idempotent, run as root.
# Asterisk 22 comes from Debian sid into a chroot shared by every checkout on the machine
# (bookworm has no asterisk package); Asterisk 16 from bullseye on the host is the fallback.
set -euo pipefail

# Runs before the venv exists, so it cannot ask `hotline settings`: the default is the one
# declared in ivr/settings.py (asterisk_root); change both together.
ASTERISK_ROOT="${HOTLINE_ASTERISK_ROOT:-/opt/hotline-asterisk-22}"
HOST_PACKAGES=(sip-tester espeak-ng sox libsox-fmt-base mmdebstrap debian-archive-keyring
               chromium chromium-driver postgresql iproute2 procps fonts-wqy-microhei graphviz
               libportaudio2)  # sounddevice (hotline mic-test)

missing=()
for pkg in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "install-system: installing ${missing[*]}"
  apt-get update -qq
  # policy-rc.d keeps Debian from starting services (postgresql) we start ourselves.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ -x "$ASTERISK_ROOT/usr/sbin/asterisk" ]]; then
  exit 0
fi
if [[ -x /usr/sbin/asterisk && -f /etc/hotline-asterisk-fallback ]]; then
  exit 0
fi

echo "install-system: building the Asterisk 22 chroot in $ASTERISK_ROOT (about a minute)"
tmp="$ASTERISK_ROOT.partial"
rm -rf "$tmp"
if mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
     --include=asterisk,asterisk-core-sounds-en-gsm \
     --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
     sid "$tmp" http://deb.debian.org/debian >"/tmp/hotline-mmdebstrap.log" 2>&1; then
  echo 'nameserver 127.0.0.1' >"$tmp/etc/resolv.conf"
  mv "$tmp" "$ASTERISK_ROOT"
  exit 0
fi

echo "install-system: the sid chroot failed (see /tmp/hotline-mmdebstrap.log); falling back to bullseye's Asterisk 16" >&2
rm -rf "$tmp"
echo 'deb http://deb.debian.org/debian bullseye main' >/etc/apt/sources.list.d/hotline-bullseye.list
cat >/etc/apt/preferences.d/hotline-bullseye <<'PIN'
Package: *
Pin: release n=bullseye
Pin-Priority: 100
PIN
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  asterisk/bullseye asterisk-modules/bullseye asterisk-config/bullseye
touch /etc/hotline-asterisk-fallback

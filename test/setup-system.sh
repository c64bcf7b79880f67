#!/usr/bin/env bash
# Installs the system tools the test suite drives (openssl, mosquitto, iproute2, iptables, chromium, xmllint, squid,
# dante, prometheus, faketime) when they are
# missing and this is a Debian machine where we are root. Elsewhere it only says what is missing: the tests that
# need a missing tool skip with one line saying so.
set -u
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need+=(iptables)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v squid >/dev/null 2>&1 || [ -x /usr/sbin/squid ] || need+=(squid)
command -v danted >/dev/null 2>&1 || [ -x /usr/sbin/danted ] || need+=(dante-server)
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing ${need[*]} from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/tmp/iot-doctor-apt.log 2>&1; then
    apt-get update -qq >>/tmp/iot-doctor-apt.log 2>&1
    apt-get install -y -qq --no-install-recommends "${need[@]}" >>/tmp/iot-doctor-apt.log 2>&1 \
      || { echo "setup: could not install ${need[*]} (see /tmp/iot-doctor-apt.log); dependent tests will skip" >&2; exit 0; }
  fi
  # The Debian package starts a system-wide broker on 1883; the tests start their own.
  # The same goes for squid, danted and prometheus: every test starts its own instance with its own configuration.
  if command -v systemctl >/dev/null 2>&1; then
    for svc in mosquitto squid danted prometheus; do systemctl disable --now "$svc" >/dev/null 2>&1 || true; done
  fi
  for svc in mosquitto squid danted prometheus; do
    [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  done
else
  echo "setup: missing ${need[*]} (not root or no apt-get): tests that need them will skip" >&2
fi
exit 0

#!/usr/bin/env bash
# snmpsim for tests/snmp: a venv made from Debian's /usr/bin/python3 (snmpsim refuses to run as
# root unless it drops to nobody:nogroup, and nobody cannot read a Python under /root), with
# python3-gdbm from Debian. Idempotent: quick when the venv already works.
# tests/snmp/conftest.py runs tests/.peers/snmpsim-venv/bin/snmpsim-command-responder.
set -euo pipefail
cd "$(dirname "$0")/../.."
link=tests/.peers/snmpsim-venv
venv=$link
# As root, when nobody cannot reach the work tree (a checkout under /root), the venv lives
# under /opt and tests/.peers/snmpsim-venv points there.
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 && ! runuser -u nobody -- test -x "$PWD/tests" 2>/dev/null; then
  venv=/opt/yunwei-test-peers/snmpsim-venv
fi
if [ -x "$venv/bin/snmpsim-command-responder" ] && "$venv/bin/python" -c 'import snmpsim, pysmi, cryptography, dbm.gnu' 2>/dev/null; then
  [ "$venv" = "$link" ] || { mkdir -p "$(dirname "$link")"; ln -sfn "$venv" "$link"; }
  exit 0
fi
if [ ! -x /usr/bin/python3 ]; then
  echo "scripts/test.d/snmpsim.sh: /usr/bin/python3 missing; snmpsim tests will be skipped" >&2
  exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")" "$(dirname "$link")"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
"$venv/bin/python" -m pip install -q 'snmpsim==1.2.*' pysmi cryptography
chmod -R a+rX "$venv"  # nobody must be able to read and run it
[ "$venv" = "$link" ] || ln -sfn "$venv" "$link"

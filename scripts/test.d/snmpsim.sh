#!/usr/bin/env bash
# snmpsim for tests/snmp: a venv made from Debian's /usr/bin/python3 (snmpsim refuses to run as
# root unless it drops to nobody:nogroup, and nobody cannot read a Python under /root), with
# python3-gdbm from Debian. Idempotent: quick when the venv already works.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=tests/.peers/snmpsim-venv
if [ -x "$venv/bin/snmpsim-command-responder" ] && "$venv/bin/python" -c 'import snmpsim, pysmi, cryptography, dbm.gnu' 2>/dev/null; then
  exit 0
fi
if [ ! -x /usr/bin/python3 ]; then
  echo "scripts/test.d/snmpsim.sh: /usr/bin/python3 missing; snmpsim tests will be skipped" >&2
  exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
"$venv/bin/python" -m pip install -q 'snmpsim==1.2.*' pysmi cryptography
# nobody must be able to read and run it
chmod -R a+rX "$venv"

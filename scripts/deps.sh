#!/usr/bin/env bash
# Makes sure every real dependency the tests run against is installed: Debian packages (PostgreSQL,
# SoftHSM2, Chromium, poppler's pdfsig, qpdf, NSS tools, OpenSSL, gcc for -race, LibreOffice Writer and
# Ghostscript as real PDF producers) and the npm packages in tools/ (the official
# SDK, Azurite, GraphiQL). As root with apt-get it installs what is missing; otherwise it says exactly
# what to install and fails. Safe to run again: it only acts on what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || need_pkgs+=(postgresql)
have softhsm2-util && [ -f /usr/lib/softhsm/libsofthsm2.so ] || need_pkgs+=(softhsm2)
have chromium || need_pkgs+=(chromium)
have pdfsig || need_pkgs+=(poppler-utils)
have qpdf || need_pkgs+=(qpdf)
have certutil || need_pkgs+=(libnss3-tools)
have openssl || need_pkgs+=(openssl)
have node || need_pkgs+=(nodejs)
have npm || need_pkgs+=(npm)
have gcc || need_pkgs+=(gcc)
# PDF producers of the anchor text search tests (internal/pdf/text_test.go); pdftotext is in poppler-utils.
have soffice || need_pkgs+=(libreoffice-writer-nogui)
have gs || need_pkgs+=(ghostscript)
have pdftotext || need_pkgs+=(poppler-utils)
# Real PDF producers for the intake tests (internal/pdf): LibreOffice Writer and Ghostscript.
have libreoffice || need_pkgs+=(libreoffice-writer-nogui)
have gs || need_pkgs+=(ghostscript)
# pyHanko, the validator of what each incremental update changed (internal/pdf/pdftest/pyhanko.go), is
# pip-installed by the tests into a virtualenv: Debian's python3 needs python3-venv for that (ensurepip).
have python3 || need_pkgs+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
# The official Python SDK (criipto-signatures 2.x, python_sdk_e2e_test.go) needs Python 3.13 or newer,
# which Debian 12 does not package: the test finds it on PATH, in pyenv's versions, or at
# $PYTHON_SDK_INTERPRETER (internal/testenv/pythonsdk.go). Said here, before a long test run.
py313=""
for c in "${PYTHON_SDK_INTERPRETER:-}" python3.13 python3.14 python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*/bin/python3; do
  if [ -n "$c" ] && "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1; then py313=$c; break; fi
done
if [ -z "$py313" ]; then
  echo "deps: no Python 3.13+ for the official Python SDK test: install one (pyenv install 3.13, python.org, or" >&2
  echo "  Debian 13's python3 and python3-venv) or set PYTHON_SDK_INTERPRETER; with CI=true that test fails" >&2
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "deps: installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "deps: missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get install ${need_pkgs[*]}" >&2
    exit 1
  fi
fi

# npm packages, pinned by tools/package-lock.json; reinstalled only when the lock file changed.
stamp=tools/node_modules/.installed-lock
if [ ! -f "$stamp" ] || ! cmp -s tools/package-lock.json "$stamp"; then
  echo "deps: npm ci in tools/"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
  cp tools/package-lock.json "$stamp"
fi

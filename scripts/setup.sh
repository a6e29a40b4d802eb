#!/usr/bin/env bash
# Installs what the tests, the demo and the local stack need, into the project only:
# a Python venv at .venv with moto[server] >= 5.2.5 (older moto breaks S3 multipart with
# the current SDK), cfn-lint, and schemathesis 4.32.5 (+ openapi-spec-validator) for the leads
# API's OpenAPI conformance test (scripts/schemathesis.sh, tests/tests/it/openapi.rs);
# checkov 3.3.30 in its own venv (.venv-checkov: its pins conflict with schemathesis's) for
# the template's security checks (scripts/lint-infra.sh); AWS SAM CLI 1.170.0 in its own
# venv too (.venv-sam: its pins conflict with cfn-lint's and checkov's) for `sam validate
# --lint` (scripts/lint-infra.sh) and the deploy commands in the README;
# Debian's chromium (/usr/bin/chromium) for the summary page's real-browser test
# (tests/tests/it/summary_browser.rs), installed with apt-get, as root or through sudo;
# and dynalite (npm, pinned by tools/dynalite/package-lock.json) into tools/dynalite/node_modules
# with `npm ci`: the DynamoDB-compatible store of the load smoke test and `make bench`'s load
# bench (tests/src/harness.rs: Dynalite).
# Idempotent: does nothing when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# Pinned: the conformance test's verdicts should not change with a new schemathesis release.
SCHEMATHESIS_VERSION=4.32.5

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required but not installed" >&2; exit 1; }; }
need "$PYTHON"
need cargo
need node
need npm

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

if ! "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, sys
def ver(p):
    return tuple(int(x) for x in m.version(p).split(".")[:3] if x.isdigit())
ok = ver("moto") >= (5, 2, 5) and ver("moto") < (6,) and m.version("flask") and m.version("cfn-lint")
sys.exit(0 if ok else 1)
PY
then
  echo "setup: installing moto[server]>=5.2.5 and cfn-lint into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.2.5,<6' 'cfn-lint>=1.20,<2'
fi

if ! SCHEMATHESIS_VERSION=$SCHEMATHESIS_VERSION "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, os, sys
ok = m.version("schemathesis") == os.environ["SCHEMATHESIS_VERSION"] and m.version("openapi-spec-validator")
sys.exit(0 if ok else 1)
PY
then
  echo "setup: installing schemathesis==$SCHEMATHESIS_VERSION and openapi-spec-validator into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" 'openapi-spec-validator>=0.7,<1'
fi

CHECKOV_VENV=${CHECKOV_VENV:-.venv-checkov}
CHECKOV_VERSION=3.3.30
if [ ! -x "$CHECKOV_VENV/bin/python" ]; then
  echo "setup: creating $CHECKOV_VENV"
  "$PYTHON" -m venv "$CHECKOV_VENV"
fi
if [ "$("$CHECKOV_VENV/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
  echo "setup: installing checkov==$CHECKOV_VERSION into $CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi

SAM_VENV=${SAM_VENV:-.venv-sam}
SAM_VERSION=1.170.0
if [ ! -x "$SAM_VENV/bin/python" ]; then
  echo "setup: creating $SAM_VENV"
  "$PYTHON" -m venv "$SAM_VENV"
fi
if [ "$(SAM_CLI_TELEMETRY=0 "$SAM_VENV/bin/sam" --version 2>/dev/null)" != "SAM CLI, version $SAM_VERSION" ]; then
  echo "setup: installing aws-sam-cli==$SAM_VERSION into $SAM_VENV"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_VERSION"
fi

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "setup: installing Debian's chromium (for the summary page's browser test)"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "setup: cannot install chromium: not root and sudo is missing; run as root: apt-get install chromium" >&2
      exit 1
    }
    SUDO=(sudo -n)
  fi
  APT_LOG=$(mktemp)
  trap 'rm -f "$APT_LOG"' EXIT
  apt_install() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
  }
  # Refresh the package lists only when the package is unknown or the install fails on them.
  if ! apt-cache show chromium >/dev/null 2>&1 || ! apt_install >"$APT_LOG" 2>&1; then
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$APT_LOG" 2>&1 || {
      cat "$APT_LOG" >&2
      echo "setup: cannot install chromium: 'apt-get update' failed (see above)" >&2
      exit 1
    }
    apt_install >>"$APT_LOG" 2>&1 || {
      tail -n 30 "$APT_LOG" >&2
      echo "setup: cannot install chromium: 'apt-get install chromium' failed (see above)" >&2
      exit 1
    }
  fi
  [ -x "$CHROMIUM" ] || { echo "setup: chromium was installed but $CHROMIUM is missing" >&2; exit 1; }
fi
CHROMIUM_VERSION=$("$CHROMIUM" --version 2>/dev/null) || {
  echo "setup: $CHROMIUM does not start ('$CHROMIUM --version' failed)" >&2
  exit 1
}

# dynalite: installed again only when the installed version is not the pinned one.
DYNALITE_DIR=tools/dynalite
dynalite_version() {
  node -p "require('./$DYNALITE_DIR/$1').version" 2>/dev/null
}
DYNALITE_PINNED=$(node -p "require('./$DYNALITE_DIR/package.json').dependencies.dynalite")
if [ "$(dynalite_version node_modules/dynalite/package.json)" != "$DYNALITE_PINNED" ]; then
  echo "setup: installing dynalite $DYNALITE_PINNED into $DYNALITE_DIR/node_modules (npm ci)"
  # No install scripts: the one dependency that has one (classic-level) ships prebuilt
  # binaries, and dynalite runs in memory here anyway.
  npm ci --prefix "$DYNALITE_DIR" --ignore-scripts --no-audit --no-fund --loglevel=error || {
    echo "setup: cannot install dynalite: 'npm ci' in $DYNALITE_DIR failed (see above)" >&2
    exit 1
  }
fi
node "$DYNALITE_DIR/node_modules/dynalite/cli.js" --help >/dev/null || {
  echo "setup: dynalite does not start ('node $DYNALITE_DIR/node_modules/dynalite/cli.js --help' failed)" >&2
  exit 1
}

"$VENV/bin/moto_server" --help >/dev/null
"$VENV/bin/cfn-lint" --version >/dev/null
"$VENV/bin/schemathesis" --version >/dev/null
echo "setup: ok ($("$VENV/bin/python" -c 'import moto; print("moto", moto.__version__)'), $("$VENV/bin/cfn-lint" --version), $("$VENV/bin/schemathesis" --version), checkov $("$CHECKOV_VENV/bin/checkov" --version), $(SAM_CLI_TELEMETRY=0 "$SAM_VENV/bin/sam" --version), $CHROMIUM_VERSION, dynalite $DYNALITE_PINNED on node $(node --version))"

#!/usr/bin/env bash
# Property-based conformance test of a RUNNING Leads API against docs/openapi.yaml.
#
#   LEADS_URL=http://127.0.0.1:9001 API_TOKEN=... scripts/schemathesis.sh [extra schemathesis args]
#
# LEADS_URL       base URL of the API (required; must be on this machine: localhost/127.0.0.1/::1)
# API_TOKEN       bearer token the API accepts (required; sent as "Authorization: Bearer ...")
# SCHEMATHESIS_EXAMPLES  max test cases per operation (default 25)
#
# Steps: check .venv (made by `make setup`), install schemathesis 4.x and openapi-spec-validator
# into it when missing (the only network use, PyPI), validate the spec, then run schemathesis.
# The run fails on any 5xx and on any response whose status code, content type or body does not
# conform to the spec. It runs in .local/schemathesis/ (git-ignored): JUnit report, caches.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
SPEC=docs/openapi.yaml

die() { echo "schemathesis.sh: $*" >&2; exit 1; }

[ -n "${LEADS_URL:-}" ] || die "LEADS_URL is not set (e.g. LEADS_URL=http://127.0.0.1:9001)"
[ -n "${API_TOKEN:-}" ] || die "API_TOKEN is not set (the bearer token the API accepts)"

EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
[[ "$EXAMPLES" =~ ^[1-9][0-9]*$ ]] || die "SCHEMATHESIS_EXAMPLES must be a positive integer, got '$EXAMPLES'"

# No network beyond this machine: the API under test must be on a loopback host.
host=${LEADS_URL#*://}
[ "$host" != "$LEADS_URL" ] || die "LEADS_URL must start with http:// or https://, got '$LEADS_URL'"
host=${host%%/*}
host=${host##*@}
case "$host" in
  \[*\]*) host=${host%%]*}; host=${host#[} ;;
  *) host=${host%%:*} ;;
esac
case "$host" in
  localhost | 127.0.0.1 | ::1) ;;
  *) die "LEADS_URL host must be localhost, 127.0.0.1 or [::1] (got '$host'); this script does not test remote APIs" ;;
esac

[ -x "$VENV/bin/python" ] || die "$VENV/bin/python not found: run 'make setup' first (it creates $VENV)"

pip_install() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

# schemathesis 4.x (the v4 CLI: --url, --checks, --max-examples, --header).
st=""
for name in schemathesis st; do
  if [ -x "$VENV/bin/$name" ]; then st="$VENV/bin/$name"; break; fi
done
if [ -z "$st" ] || ! "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(0 if m.version("schemathesis").split(".")[0] == "4" else 1)
PY
then
  echo "schemathesis.sh: installing schemathesis 4.x into $VENV"
  pip_install 'schemathesis>=4,<5'
  st="$VENV/bin/schemathesis"
fi

if [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  echo "schemathesis.sh: installing openapi-spec-validator into $VENV"
  pip_install 'openapi-spec-validator>=0.7'
fi

echo "schemathesis.sh: validating $SPEC"
"$VENV/bin/openapi-spec-validator" "$SPEC"

echo "schemathesis.sh: $("$st" --version 2>/dev/null || echo schemathesis) against $LEADS_URL, max $EXAMPLES examples per operation"
# Requests go only to LEADS_URL (loopback): never through a proxy.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
export NO_PROXY='*' no_proxy='*'

# schemathesis (.schemathesis/, replay cache) and hypothesis (.hypothesis/) write next to the
# working directory: run from .local/schemathesis so nothing lands in the repository.
# To replay a failure: cd .local/schemathesis && ../../.venv/bin/schemathesis replay <id>
root=$PWD
st_abs="$(cd "$(dirname "$st")" && pwd)/$(basename "$st")"
mkdir -p .local/schemathesis
cd .local/schemathesis
export HYPOTHESIS_STORAGE_DIRECTORY="$PWD/.hypothesis"

exec "$st_abs" run "$root/$SPEC" \
  --url "$LEADS_URL" \
  --header "Authorization: Bearer $API_TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" \
  --request-timeout 10 \
  --generation-database none \
  --report junit \
  --report-dir "$PWD" \
  --no-color \
  "$@"

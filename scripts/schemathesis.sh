#!/usr/bin/env bash
# Property-based conformance test of a RUNNING API against its OpenAPI document (by default
# the Leads API against docs/openapi.yaml).
#
#   LEADS_URL=http://127.0.0.1:9001 API_TOKEN=... scripts/schemathesis.sh [extra schemathesis args]
#   SPEC=docs/reports-openapi.yaml API_URL=http://127.0.0.1:9003 CHECKS=all API_TOKEN=... scripts/schemathesis.sh
#
# SPEC            the OpenAPI document, absolute or relative to the repository (default
#                 docs/openapi.yaml)
# API_URL         base URL of the API (default $LEADS_URL; one of them is required; must be on
#                 this machine: localhost/127.0.0.1/::1)
# API_TOKEN       bearer token the API accepts (required; sent as "Authorization: Bearer ...")
# CHECKS          schemathesis --checks value (default: not_a_server_error,
#                 status_code_conformance, content_type_conformance,
#                 response_schema_conformance; "all" adds negative data rejection, positive data
#                 acceptance, undeclared methods, auth, headers and the stateful link checks)
# SCHEMATHESIS_EXAMPLES  max test cases per operation (default 25)
# SCHEMATHESIS_HOOKS     optional schemathesis hooks file (absolute path), read by schemathesis
#
# Steps: check .venv (made by `make setup`), install schemathesis 4.x and openapi-spec-validator
# into it when missing (the only network use, PyPI), validate the spec, then run schemathesis
# (every phase: examples, coverage, fuzzing and, where the spec has links, stateful).
# The run fails on any 5xx and on any response whose status code, content type or body does not
# conform to the spec (and on whatever else CHECKS asks). It runs in .local/schemathesis/ for
# the default spec and in .local/schemathesis/<spec name>/ for another (git-ignored): JUnit
# report, caches.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
DEFAULT_SPEC=docs/openapi.yaml
SPEC=${SPEC:-$DEFAULT_SPEC}
DEFAULT_CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
CHECKS=${CHECKS:-$DEFAULT_CHECKS}

die() { echo "schemathesis.sh: $*" >&2; exit 1; }

API_URL=${API_URL:-${LEADS_URL:-}}
[ -n "$API_URL" ] || die "API_URL (or LEADS_URL) is not set (e.g. LEADS_URL=http://127.0.0.1:9001)"
[ -n "${API_TOKEN:-}" ] || die "API_TOKEN is not set (the bearer token the API accepts)"
[ -f "$SPEC" ] || die "SPEC $SPEC not found (absolute, or relative to the repository)"
[[ "$CHECKS" =~ ^[a-z_]+(,[a-z_]+)*$ ]] || die "CHECKS must be a comma-separated list of check names, got '$CHECKS'"

EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
[[ "$EXAMPLES" =~ ^[1-9][0-9]*$ ]] || die "SCHEMATHESIS_EXAMPLES must be a positive integer, got '$EXAMPLES'"

# No network beyond this machine: the API under test must be on a loopback host.
host=${API_URL#*://}
[ "$host" != "$API_URL" ] || die "API_URL must start with http:// or https://, got '$API_URL'"
host=${host%%/*}
host=${host##*@}
case "$host" in
  \[*\]*) host=${host%%]*}; host=${host#[} ;;
  *) host=${host%%:*} ;;
esac
case "$host" in
  localhost | 127.0.0.1 | ::1) ;;
  *) die "API_URL host must be localhost, 127.0.0.1 or [::1] (got '$host'); this script does not test remote APIs" ;;
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

echo "schemathesis.sh: $("$st" --version 2>/dev/null || echo schemathesis) against $API_URL ($SPEC), checks $CHECKS, max $EXAMPLES examples per operation"
# Requests go only to API_URL (loopback): never through a proxy.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
export NO_PROXY='*' no_proxy='*'

# schemathesis (.schemathesis/, replay cache) and hypothesis (.hypothesis/) write next to the
# working directory: run from .local/schemathesis so nothing lands in the repository.
# To replay a failure: cd .local/schemathesis && ../../.venv/bin/schemathesis replay <id>
spec_abs=$(cd "$(dirname "$SPEC")" && pwd)/$(basename "$SPEC")
st_abs="$(cd "$(dirname "$st")" && pwd)/$(basename "$st")"
work=.local/schemathesis
if [ "$SPEC" != "$DEFAULT_SPEC" ]; then
  name=$(basename "$SPEC")
  work="$work/${name%.*}"
fi
mkdir -p "$work"
cd "$work"
export HYPOTHESIS_STORAGE_DIRECTORY="$PWD/.hypothesis"

exec "$st_abs" run "$spec_abs" \
  --url "$API_URL" \
  --header "Authorization: Bearer $API_TOKEN" \
  --checks "$CHECKS" \
  --max-examples "$EXAMPLES" \
  --request-timeout 10 \
  --generation-database none \
  --report junit \
  --report-dir "$PWD" \
  --no-color \
  "$@"

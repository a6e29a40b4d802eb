#!/usr/bin/env bash
# Lint the SAM template offline with cfn-lint (it runs the SAM transform, so bad properties,
# refs and policies are caught without AWS credentials), then checkov's security checks, then
# `sam validate --lint` (SAM CLI's own transform and its bundled cfn-lint, with samconfig.toml's
# [default.validate] section, as a deployer runs it). Zero errors and zero warnings expected;
# every checkov skip carries its reason in the template (`Metadata: checkov: skip:`). All three
# come from the venvs scripts/setup.sh creates (override with VENV=... / CHECKOV_VENV=... /
# SAM_VENV=...). No network is needed: `sam validate` gets a region and dummy credentials, and
# its telemetry is off.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${VENV:-.venv}"
cfn_lint="${venv}/bin/cfn-lint"
template="infra/template.yaml"

if [[ ! -x "${cfn_lint}" ]]; then
    echo "error: ${cfn_lint} not found." >&2
    echo "       Run scripts/setup.sh first (it installs cfn-lint into ${venv})," >&2
    echo "       or point VENV at a virtualenv that has cfn-lint." >&2
    exit 1
fi

echo "cfn-lint $("${cfn_lint}" --version 2>/dev/null | awk '{print $NF}') on ${template}"
"${cfn_lint}" -- "${template}"
echo "ok: ${template} passes cfn-lint"

checkov="${CHECKOV_VENV:-.venv-checkov}/bin/checkov"
if [[ ! -x "${checkov}" ]]; then
    echo "error: ${checkov} not found. Run scripts/setup.sh first." >&2
    exit 1
fi
echo "checkov $("${checkov}" --version) on ${template}"
"${checkov}" --file "${template}" --framework cloudformation --compact --quiet --skip-download
echo "ok: ${template} passes checkov (skips and their reasons are in the template)"

sam="${SAM_VENV:-.venv-sam}/bin/sam"
if [[ ! -x "${sam}" ]]; then
    echo "error: ${sam} not found. Run scripts/setup.sh first." >&2
    exit 1
fi
export SAM_CLI_TELEMETRY=0
echo "$("${sam}" --version) validate --lint on ${template}"
AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" \
AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-offline}" \
AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-offline}" \
    "${sam}" validate --lint
echo "ok: ${template} passes sam validate --lint"

#!/usr/bin/env bash
# Lint the SAM template offline with cfn-lint (it runs the SAM transform, so bad properties,
# refs and policies are caught without AWS credentials), then checkov's security checks.
# Zero errors and zero warnings expected; every checkov skip carries its reason in the
# template (`Metadata: checkov: skip:`). Both come from the venvs scripts/setup.sh creates
# (override with VENV=... / CHECKOV_VENV=...).
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

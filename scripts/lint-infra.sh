#!/usr/bin/env bash
# Lint the SAM template offline with cfn-lint (it runs the SAM transform, so bad properties,
# refs and policies are caught without AWS credentials). Zero errors and zero warnings expected.
# cfn-lint comes from the project venv created by scripts/setup.sh (override with VENV=...).
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

#!/usr/bin/env bash
# Checks what can be checked of the release here, where neither GitHub Actions nor Deno's
# download server (denort, which `deno compile` needs) can be reached:
# - every workflow file against GitHub's workflow schema (@action-validator/cli);
# - every flag the compile command passes (scripts/compile.sh, shared with release.yml) against
#   `deno compile --help` of the pinned Deno.
set -euo pipefail
cd "$(dirname "$0")/.."
for workflow in .github/workflows/*.yml; do
  deno run --allow-read --allow-env npm:@action-validator/cli@0.6.0 "$workflow"
  echo "ok: $workflow matches GitHub's workflow schema"
done
help=$(deno compile --help)
unknown=0
while IFS= read -r flag; do
  if ! grep -qE -- "(^|[[:space:]])${flag}([=[:space:]]|$)" <<<"$help"; then
    echo "deno compile --help does not list $flag (used by scripts/compile.sh)" >&2
    unknown=1
  fi
done < <(DRY_RUN=1 bash scripts/compile.sh x86_64-unknown-linux-gnu dist/check | grep -oE '^--[a-z0-9-]+' | sort -u)
[ "$unknown" = 0 ]
echo "ok: every flag of scripts/compile.sh is one deno compile $(deno --version | head -n 1 | cut -d' ' -f2) accepts"

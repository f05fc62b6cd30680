#!/usr/bin/env bash
# Builds the single-file dsgen binary: scripts/compile.sh [TARGET] [OUTPUT]
# TARGET is a Rust target triple as `deno compile --target` takes it (default: this machine).
# The first build downloads Deno's `denort` runtime for the target from Deno's server.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
output="${2:-dist/dsgen}"
args=(
  --allow-read --allow-write --allow-env --allow-sys
  # --generator-cmd starts the user's renderer; its memory is read with `cat /proc/<pid>/status`.
  --allow-run
  # The writer frees dead chunk buffers explicitly; see collectGarbage in src/pipeline/dataset.ts.
  --v8-flags=--expose-gc,--max-semi-space-size=1
  # Worker modules are loaded by URL at run time, so they must be embedded by name.
  --include src/pipeline/render_worker.ts
  --include src/pipeline/hash_worker.ts
  --output "$output"
)
if [ -n "$target" ]; then args+=(--target "$target"); fi
# DRY_RUN=1 prints the arguments instead (scripts/check_release.sh checks them against the help).
if [ "${DRY_RUN:-}" = 1 ]; then printf '%s\n' "${args[@]}"; exit 0; fi
deno compile "${args[@]}" main.ts

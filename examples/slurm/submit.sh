#!/bin/bash
# Submits the array and its afterok merge job; prints both job ids.
#   OUT=/shared/data NUM_IMAGES=100000000 SEED=42 examples/slurm/submit.sh
set -euo pipefail
here=$(dirname "$0")
array=$(sbatch --parsable "$@" "$here/generate.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --export="ALL,RUN_ID=$array" \
  "$here/merge.sbatch")
echo "array $array, merge $merge (dsgen list ${OUT:-/shared/data} shows progress)"

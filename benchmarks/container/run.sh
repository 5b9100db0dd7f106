#!/usr/bin/env bash
# Build the images and report build time, image size and the size added on top of the base.
#
#   benchmarks/container/run.sh [BASE_IMAGE] [TARGET...]
#   e.g. benchmarks/container/run.sh localbase:py3.12 classify full gpu
#
# TARGET gpu is the full target with --build-arg EXTRAS=gpu. Build times depend on the
# network and on Docker's cache: pass DOCKER_BUILD_FLAGS=--no-cache for a cold build.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${1:-python:3.12-slim}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(classify full)
docker image inspect "$BASE" >/dev/null 2>&1 || docker pull "$BASE"
base_size=$(docker image inspect -f '{{.Size}}' "$BASE")
printf '| image | build s | size MB | added to base MB |\n|---|---|---|---|\n'
printf '| %s (base) | | %d | |\n' "$BASE" $((base_size / 1000000))
for t in "${TARGETS[@]}"; do
  args=(--build-arg "BASE_IMAGE=$BASE" -t "rnaigloo:$t")
  if [ "$t" = gpu ]; then args+=(--build-arg EXTRAS=gpu --target full); else args+=(--target "$t"); fi
  start=$(date +%s)
  # shellcheck disable=SC2086
  docker build -q ${DOCKER_BUILD_FLAGS:-} "${args[@]}" . >/dev/null
  secs=$(($(date +%s) - start))
  size=$(docker image inspect -f '{{.Size}}' "rnaigloo:$t")
  printf '| rnaigloo:%s | %d | %d | %d |\n' "$t" "$secs" $((size / 1000000)) $(((size - base_size) / 1000000))
done

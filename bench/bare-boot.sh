#!/usr/bin/env bash
# The boot check a user would write without smcl: run the image like SageMaker, poll /ping
# with curl until 200, remove the container. Prints one JSON line with healthyMs and totalMs.
# `rm -f -t 2`: the same 2 s stop grace as smcl's `stop -t 2` (plain `rm -f` waits the image's
# 10 s stop timeout when PID 1 ignores SIGTERM, as busybox nc does, which would only add 8 s here).
#   bench/bare-boot.sh IMAGE PORT [ENGINE] [POLL_SECONDS] [TIMEOUT_SECONDS]
set -euo pipefail
image=$1 port=$2 engine=${3:-podman} poll=${4:-0.05} timeout=${5:-120}
now() { date +%s%N; }
t0=$(now)
id=$("$engine" run -d --network host -e SAGEMAKER_BIND_TO_PORT="$port" "$image" serve)
trap '"$engine" rm -f "$id" > /dev/null 2>&1 || true' EXIT
deadline=$(( t0 + timeout * 1000000000 ))
until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/ping"; do
  if [ "$(now)" -gt "$deadline" ]; then echo '{"error":"not healthy in time"}'; exit 1; fi
  sleep "$poll"
done
t1=$(now)
"$engine" rm -f -t 2 "$id" > /dev/null
trap - EXIT
t2=$(now)
echo "{\"healthyMs\":$(( (t1 - t0) / 1000000 )),\"totalMs\":$(( (t2 - t0) / 1000000 ))}"

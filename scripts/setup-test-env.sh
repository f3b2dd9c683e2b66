#!/usr/bin/env bash
# Prepares a machine (fresh Debian 12 or an already prepared one) for the podman-backed tests:
#   - installs podman, runc, skopeo, docker-registry and busybox-static when any is missing;
#   - writes the podman configuration files the tests rely on (only when absent or different);
#   - checks that `podman info` works.
# Idempotent and fast (< 2 s) when everything is already in place. Must run as root.
set -euo pipefail

log() { printf 'setup-test-env: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (installs packages and writes /etc/containers)"
  exit 1
fi

# ---------------------------------------------------------------------------------------------
# 1. Packages. `dpkg-query` is cheap; apt-get runs only when something is missing.
# ---------------------------------------------------------------------------------------------
packages=(podman runc skopeo docker-registry busybox-static)
missing=()
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)
for p in "${packages[@]}"; do
  printf '%s\n' "$installed" | grep -qx "$p install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for bin in podman runc skopeo docker-registry; do
  command -v "$bin" >/dev/null || { log "$bin not on PATH after install"; exit 1; }
done
[ -x /bin/busybox ] || { log "/bin/busybox missing (package busybox-static)"; exit 1; }

# ---------------------------------------------------------------------------------------------
# 2. Podman configuration, as files rather than command-line flags so that every podman call
#    (tests, the harness, a developer's shell) behaves the same way.
# ---------------------------------------------------------------------------------------------
# write_if_changed PATH CONTENT: writes atomically only when the file is absent or different.
write_if_changed() {
  local path=$1 content=$2
  if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then
    return 1
  fi
  mkdir -p "$(dirname "$path")"
  if [ -f "$path" ]; then
    cp -p "$path" "$path.smcl-bak"
    log "replacing $path (previous copy kept as $path.smcl-bak)"
  else
    log "writing $path"
  fi
  printf '%s\n' "$content" >"$path.tmp.$$"
  mv -f "$path.tmp.$$" "$path"
  return 0
}

containers_conf='# Written by scripts/setup-test-env.sh (sagemaker-container-lint test environment).
# Why:
# - default_ulimits: the build machines give processes a huge RLIMIT_NOFILE/NPROC; conmon/runc
#   then fail or containers start slowly, so pin modest limits for every container.
# - runtime = "runc": crun is not installed; runc is the runtime we install and test with.
# - cgroup_manager = "cgroupfs": there is no systemd (PID 1 is not systemd) on CI machines,
#   so the systemd cgroup manager cannot be used.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"'

storage_conf='# Written by scripts/setup-test-env.sh (sagemaker-container-lint test environment).
# Why: the machines run inside a VM/sandbox where overlayfs (and fuse-overlayfs) is not
# reliably available for container storage; "vfs" works everywhere, it only costs disk space,
# and the fixture images are tiny (FROM scratch + static busybox).
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"'

changed=0
write_if_changed /etc/containers/containers.conf "$containers_conf" && changed=1
storage_changed=0
write_if_changed /etc/containers/storage.conf "$storage_conf" && storage_changed=1 && changed=1

# ---------------------------------------------------------------------------------------------
# 3. Check podman works. If the storage driver was just switched and podman still remembers the
#    old one, reset storage once: only when nothing is stored there (never wipes user images).
# ---------------------------------------------------------------------------------------------
if ! info_err=$(podman info --format '{{.Store.GraphDriverName}}' 2>&1 >/dev/null); then
  if [ "$storage_changed" = 1 ] || printf '%s' "$info_err" | grep -qi 'graph driver'; then
    images=$(ls /var/lib/containers/storage/overlay-images 2>/dev/null | grep -v '\.lock$' | grep -v 'images.json' || true)
    if [ -z "$images" ]; then
      log "podman storage was set up for another driver and holds no image: resetting it"
      podman system reset --force >/dev/null 2>&1 || rm -rf /var/lib/containers/storage/libpod /var/lib/containers/storage/overlay*
    fi
  fi
fi
driver=$(podman info --format '{{.Store.GraphDriverName}}' 2>&1) || {
  log "podman info failed:"
  printf '%s\n' "$driver" >&2
  exit 1
}
if [ "$driver" != "vfs" ]; then
  log "podman uses storage driver '$driver', expected 'vfs' (see /etc/containers/storage.conf)"
  exit 1
fi
[ "$changed" = 1 ] && log "podman configured (driver $driver)"
log "ok"

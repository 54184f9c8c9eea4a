#!/usr/bin/env bash
# Makes an uploaded release the running one, on the VPS, as root. Installed once as
# /usr/local/sbin/canopy-activate (root-owned; the deploy user may sudo only that), and run by the CI deploy
# job over SSH after it uploaded the release (docs/operations.md):
#   1. `canopy-cloud migrate` as user canopy with /etc/canopy-cloud.env: a pg_dump to BACKUP_DIR first; when
#      the dump or a migration fails, stop here (the running release is untouched);
#   2. /opt/canopy/current -> /opt/canopy/releases/<release>, the previous target noted in
#      /opt/canopy/previous-release (for a rollback: docs/operations.md);
#   3. restart canopy-cloud and wait until /readyz answers; keep the newest 5 releases.
#
#   canopy-activate <release>    e.g. canopy-activate 3f2a9c1 (a folder name under /opt/canopy/releases)
#
# CANOPY_PORT (8080): the port whose /readyz to wait for; CANOPY_READY_TIMEOUT_S (60): how long;
# CANOPY_ROOT (/opt/canopy): the install root (tests use a temporary one).
set -euo pipefail

root="${CANOPY_ROOT:-/opt/canopy}"
ready_timeout="${CANOPY_READY_TIMEOUT_S:-60}"
release="${1:?usage: activate.sh <release>}"
if ! [[ "$release" =~ ^[A-Za-z0-9._-]{1,64}$ ]]; then echo "activate: bad release name" >&2; exit 2; fi
dir="$root/releases/$release"
[ -f "$dir/apps/cloud/dist/cli.js" ] || { echo "activate: $dir holds no built canopy-cloud" >&2; exit 2; }
port="${CANOPY_PORT:-8080}"
if ! [[ "$ready_timeout" =~ ^[0-9]+$ && "$port" =~ ^[0-9]+$ ]]; then echo "activate: bad CANOPY_READY_TIMEOUT_S or CANOPY_PORT" >&2; exit 2; fi

chown -R root:root "$dir"
chmod -R go-w "$dir"

echo "activate: migrating with $release (a pg_dump comes first)"
# systemd reads the environment file exactly as it does for the service; the command's exit code comes back.
systemd-run --quiet --wait --pipe --collect --uid=canopy --gid=canopy \
  --property=EnvironmentFile=/etc/canopy-cloud.env \
  --setenv=CANOPY_DATA_DIR=/var/lib/canopy --setenv=BACKUP_DIR=/var/backups/canopy \
  --working-directory="$dir" \
  /usr/bin/node "$dir/apps/cloud/bin/canopy-cloud.js" migrate

previous="$(readlink "$root/current" || true)"
[ -n "$previous" ] && printf '%s\n' "$previous" > "$root/previous-release"
ln -sfn "$dir" "$root/current.new"
mv -T "$root/current.new" "$root/current"

echo "activate: restarting canopy-cloud"
systemctl restart canopy-cloud
for _ in $(seq 1 "$ready_timeout"); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    echo "activate: $release is live (previous: ${previous:-none})"
    ls -1dt "$root"/releases/*/ | tail -n +6 | { grep -v -F "$dir/" || true; } | xargs -r rm -rf
    exit 0
  fi
  sleep 1
done
echo "activate: canopy-cloud did not become ready within $ready_timeout s; see journalctl -u canopy-cloud. To go back: docs/operations.md#rollback" >&2
exit 1

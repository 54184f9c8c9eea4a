#!/usr/bin/env bash
# Restores a canopy-backup.sh (or `canopy-cloud migrate`) dump into the database of DATABASE_URL.
# Stop canopy-cloud first (systemctl stop canopy-cloud). Objects the dump holds are dropped and recreated;
# the restore runs in one transaction, so a failure leaves the database as it was.
#
#   canopy-restore.sh --yes /var/backups/canopy/canopy-daily-20261204T030000Z.dump
#
# Exit codes: 0 restored, 1 the restore failed, 2 bad arguments or configuration.
set -euo pipefail
umask 077

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
yes=0
file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --yes) yes=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "canopy-restore: unknown option $1" >&2; exit 2 ;;
    *) file="$1"; shift ;;
  esac
done
if [ -z "$file" ] || [ ! -r "$file" ]; then echo "canopy-restore: name a readable dump file" >&2; exit 2; fi
: "${DATABASE_URL:?canopy-restore: DATABASE_URL is not set (run with /etc/canopy-cloud.env)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pg_vars="$(node "$here/pg-env.mjs" "$work/pgpass")"  # exits here (set -e) on a bad DATABASE_URL
while IFS='=' read -r name value; do [ -n "$name" ] && export "$name=$value"; done <<<"$pg_vars"
export PGPASSFILE="$work/pgpass"

pg_restore --list "$file" >/dev/null || { echo "canopy-restore: $file is not a pg_dump custom-format file" >&2; exit 2; }
if [ "$yes" != 1 ]; then
  echo "canopy-restore: this replaces the contents of database ${PGDATABASE:-?} on ${PGHOST:-localhost} with $file." >&2
  echo "Stop canopy-cloud first, then run again with --yes." >&2
  exit 2
fi
if ! pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname "${PGDATABASE:?DATABASE_URL names no database}" "$file"; then
  echo "canopy-restore: pg_restore failed; the database was left as it was (one transaction)" >&2
  exit 1
fi
echo "canopy-restore: restored $file into ${PGDATABASE} on ${PGHOST:-localhost}"

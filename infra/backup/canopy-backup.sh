#!/usr/bin/env bash
# Daily backup of canopy-cloud's PostgreSQL database (spec 002 §23.4): a compressed pg_dump (custom format)
# into BACKUP_DIR (default /var/backups/canopy, outside the app folder), then backups older than
# BACKUP_RETENTION_DAYS (default 14) are deleted. Run by canopy-backup.timer with /etc/canopy-cloud.env.
#
#   canopy-backup.sh [--label NAME]      # file: $BACKUP_DIR/canopy-NAME-YYYYmmddTHHMMSSZ.dump (default NAME: daily)
#
# Reads DATABASE_URL; the password reaches pg_dump through a private .pgpass file, never its arguments.
# Exit codes: 0 done, 1 the dump failed (nothing deleted), 2 bad configuration.
set -euo pipefail
umask 077

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app_root="$(cd "$here/../.." && pwd)"
label=daily
while [ $# -gt 0 ]; do
  case "$1" in
    --label) label="${2:?--label needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "canopy-backup: unknown argument $1" >&2; exit 2 ;;
  esac
done
if ! [[ "$label" =~ ^[a-z0-9-]{1,40}$ ]]; then echo "canopy-backup: --label must be a-z, 0-9 or -" >&2; exit 2; fi

: "${DATABASE_URL:?canopy-backup: DATABASE_URL is not set (run with /etc/canopy-cloud.env)}"
backup_dir="${BACKUP_DIR:-/var/backups/canopy}"
retention_days="${BACKUP_RETENTION_DAYS:-14}"
if ! [[ "$retention_days" =~ ^[0-9]+$ ]] || [ "$retention_days" -lt 1 ]; then
  echo "canopy-backup: BACKUP_RETENTION_DAYS must be a whole number of days, at least 1" >&2; exit 2
fi
mkdir -p "$backup_dir"
chmod 0700 "$backup_dir"
backup_dir="$(cd "$backup_dir" && pwd -P)"
case "$backup_dir/" in
  "$(cd "$app_root" && pwd -P)/"*) echo "canopy-backup: BACKUP_DIR ($backup_dir) is inside the app folder; a deploy would replace it. Choose a folder outside $app_root." >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pg_vars="$(node "$here/pg-env.mjs" "$work/pgpass")"  # exits here (set -e) on a bad DATABASE_URL
while IFS='=' read -r name value; do [ -n "$name" ] && export "$name=$value"; done <<<"$pg_vars"
export PGPASSFILE="$work/pgpass"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
file="$backup_dir/canopy-$label-$stamp.dump"
if ! pg_dump --format=custom --no-owner --no-privileges --file "$file.partial"; then
  rm -f "$file.partial"
  echo "canopy-backup: pg_dump of ${PGDATABASE:-?} on ${PGHOST:-localhost} failed; older backups kept" >&2
  exit 1
fi
mv "$file.partial" "$file"
echo "canopy-backup: wrote $file ($(stat -c %s "$file") bytes)"

# Retention: dumps older than the limit go; the one just written never does.
find "$backup_dir" -maxdepth 1 -type f -name 'canopy-*.dump' -mmin "+$((retention_days * 24 * 60))" \
  ! -path "$file" -print -delete | sed 's/^/canopy-backup: deleted (older than '"$retention_days"' days) /'

#!/bin/sh
# The store: PostgreSQL whose superuser is STORE_USER, with the database STORE_DATABASE.
set -eu
bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s' "$STORE_PASSWORD" > /tmp/store-password
  "$bin/initdb" -D "$PGDATA" -U "$STORE_USER" --pwfile=/tmp/store-password \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f /tmp/store-password
  printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$STORE_DATABASE" "$STORE_USER" \
    | "$bin/postgres" --single -D "$PGDATA" -j postgres >/dev/null
fi
exec "$bin/postgres" -D "$PGDATA"

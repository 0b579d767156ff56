#!/usr/bin/env bash
# The baseline: the seed's own steps (its user data: apt install Docker + compose, clone, compose up)
# on Debian 13, as a plain script. Two changes that the sandbox forces: Debian's package names,
# and a docker load of the base image (no registry answers here). Run as root on the host.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y docker.io docker-cli docker-compose git
systemctl enable docker
systemctl start docker
mkdir -p /opt/baseline
cd /opt/baseline
git clone "$APP_REPO" .
docker load --quiet --input "$PRELOAD_IMAGE"
printf 'DB_PASSWORD=baseline\nBASE_IMAGE=%s\n' "$BASE_IMAGE" > .env
docker compose up --detach --build --wait

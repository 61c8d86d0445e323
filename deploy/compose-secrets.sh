#!/bin/sh
# Secrets for docker-compose.yml, generated here and never committed (deploy/secrets/ ignores them).
#
#   deploy/compose-secrets.sh                      passwords, PII key, tokens file and an admin token
#   deploy/compose-secrets.sh token NAME SCOPE...  one more token (printed once; only its digest is kept)
#
# compose.env      role and admin passwords, the PII key: for `docker-compose --env-file`
# tokens/          tokens.json, SHA-256 digests only; the one directory the services mount
# admin.token      the admin token's plaintext, for you alone
set -eu

here=$(cd "$(dirname "$0")" && pwd)
secrets="${DUNNING_SECRETS_DIR:-$here/secrets}"
python="${PYTHON:-$here/../.venv/bin/python}"
umask 077

issue() {
    name=$1
    shift
    DUNNING_STATE_DIR="$secrets/tokens" "$python" -m dunning_platform.devstack token --name "$name" --scopes "$@"
    # The services run as uid 10001: the digests must be readable to them (they reveal no token).
    chmod 0755 "$secrets/tokens"
    chmod 0644 "$secrets/tokens/tokens.json"
}

random() {
    "$python" -c "import secrets; print(secrets.token_urlsafe(24))"
}

if [ "${1:-}" = "token" ]; then
    shift
    [ $# -ge 2 ] || { echo "usage: $0 token NAME SCOPE..." >&2; exit 2; }
    issue "$@"
    exit 0
fi

mkdir -p "$secrets/tokens"
if [ -e "$secrets/compose.env" ]; then
    echo "$secrets/compose.env exists; keeping it (delete it to start over)"
else
    {
        echo "POSTGRES_PASSWORD=$(random)"
        echo "INGESTION_DB_PASSWORD=$(random)"
        echo "SCHEDULER_DB_PASSWORD=$(random)"
        echo "NOTIFICATION_DB_PASSWORD=$(random)"
        echo "LEGAL_DB_PASSWORD=$(random)"
        echo "GRAFANA_ADMIN_PASSWORD=$(random)"
        # A Fernet key: borrower contact data is encrypted with it; losing it makes that data unreadable.
        echo "DUNNING_PII_KEY=$("$python" -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())")"
    } > "$secrets/compose.env"
    echo "wrote $secrets/compose.env"
fi

if [ ! -e "$secrets/admin.token" ]; then
    issue "compose admin" admin > "$secrets/admin.token"
    echo "wrote $secrets/admin.token (the admin bearer token) and $secrets/tokens/tokens.json"
fi

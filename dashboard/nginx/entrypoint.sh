#!/bin/sh
# Start nginx for the dashboard: render the gateway's config from its
# template, then exec nginx in the foreground (PID 1, receives SIGTERM/SIGQUIT).
# POSIX sh: the image has no bash.
set -eu

: "${STOREFLEET_CREATE_STORE_URL:?set STOREFLEET_CREATE_STORE_URL, e.g. http://create-store.storefleet.svc.cluster.local}"
: "${STOREFLEET_DELETE_STORE_URL:?set STOREFLEET_DELETE_STORE_URL, e.g. http://delete-store.storefleet.svc.cluster.local}"
: "${STOREFLEET_LIST_STORES_URL:?set STOREFLEET_LIST_STORES_URL, e.g. http://list-stores.storefleet.svc.cluster.local}"

# The cluster's DNS servers, for names resolved per request.
if [ -z "${NGINX_RESOLVER:-}" ]; then
  NGINX_RESOLVER="$(awk '$1 == "nameserver" { if ($2 ~ /:/) printf "[%s] ", $2; else printf "%s ", $2 }' /etc/resolv.conf)"
fi
[ -n "$NGINX_RESOLVER" ] || { echo "entrypoint: no nameserver in /etc/resolv.conf; set NGINX_RESOLVER" >&2; exit 1; }
export NGINX_RESOLVER

# GET /config.json, what the dashboard learns from its gateway: the mail
# catcher's web UI when the platform runs one (STOREFLEET_MAIL_URL, set by the
# platform chart's mailCatcher), else nothing. Only a plain http(s) URL: the
# value goes into a JSON string inside an nginx string.
STOREFLEET_DASHBOARD_CONFIG='{}'
if [ -n "${STOREFLEET_MAIL_URL:-}" ]; then
  if ! printf '%s' "$STOREFLEET_MAIL_URL" | grep -Eq '^https?://[A-Za-z0-9.:-]+(/[A-Za-z0-9._~/-]*)?$'; then
    echo "entrypoint: STOREFLEET_MAIL_URL=$STOREFLEET_MAIL_URL is not a plain http(s) URL (e.g. http://mail.localhost/)" >&2
    exit 1
  fi
  STOREFLEET_DASHBOARD_CONFIG=$(printf '{"mailUrl":"%s"}' "$STOREFLEET_MAIL_URL")
fi
export STOREFLEET_DASHBOARD_CONFIG

mkdir -p /tmp/nginx
# Only these variables are substituted; nginx's own $variables stay as they are.
# shellcheck disable=SC2016 # the single quotes are envsubst's variable list
envsubst '${STOREFLEET_CREATE_STORE_URL} ${STOREFLEET_DELETE_STORE_URL} ${STOREFLEET_LIST_STORES_URL} ${NGINX_RESOLVER} ${STOREFLEET_DASHBOARD_CONFIG}' \
  < /etc/nginx/storefleet/storefleet.conf.template > /tmp/nginx/storefleet.conf

exec nginx -c /etc/nginx/storefleet/nginx.conf -g 'daemon off;' "$@"

#!/bin/sh
# The WooCommerce setup: makes a fresh WordPress a store that can sell, in the
# order that matters. Runs in init container woocommerce-setup (wordpress:cli,
# uid 33, HOME=/tmp) of the WordPress pod, so the pod — and the store — is not
# Ready before every step has succeeded. A pod restart or a helm upgrade runs
# it again, and that run must leave the merchant's store as the merchant made
# it. So there are two kinds of steps:
#   - every run: what makes the store reachable at all — MySQL, WordPress
#     installed and at the image's database version, WooCommerce installed
#     (at the chosen version) and active, coming-soon mode off;
#   - first install only (until the option storefleet_first_install marks
#     them done, written after the first full check passed): the store's
#     settings — title, permalinks, address, currency, guest checkout, Cash on
#     delivery and Check payments, free shipping, high-performance order
#     storage, the shop as the front page, sample products. A merchant who
#     then turns COD off, changes the front page or drafts every product
#     keeps that over every restart and upgrade.
# Steps 1-4 are here (what must happen before WooCommerce can load), steps 5-9
# and the checks are files/setup-woocommerce.php, run once with wp eval-file:
# each `wp` call loads WordPress and WooCommerce anew (0.6-1 s), so the setup
# makes 3 of them on a restart and 5 on a first install, not ~45.
#
# Inputs (environment, from the pod spec; no value is templated into this file):
#   WORDPRESS_DB_*          database (password as a file), same as WordPress
#   STORE_URL STORE_TITLE STORE_COUNTRY STORE_CURRENCY STORE_ADDRESS STORE_CITY STORE_POSTCODE
#   WOOCOMMERCE_VERSION     pinned version ("" = latest); unused with a source
#   WOOCOMMERCE_SOURCE      zip URL or path instead of wordpress.org ("" = wordpress.org)
#   DATABASE_WAIT_SECONDS   how long to wait for MySQL
#   SECRETS_DIR             directory of the wordpress-admin-user/-password/-email files
#   PRODUCTS_FILE           sample products, one "name|price|description" a line
#   SETUP_PROGRAM           files/setup-woocommerce.php: the steps after WooCommerce's
#                           activation, run in one `wp eval-file` (one load of WordPress
#                           and WooCommerce instead of one a `wp` call)
set -eu

current_step="start"
on_exit() {
  status=$?
  if [ "$status" -ne 0 ]; then
    if [ -s "${SETUP_STEP_FILE:-/nonexistent}" ]; then
      current_step="$(cat "$SETUP_STEP_FILE")"
    fi
    # The termination message is what the readiness-checker shows the user.
    echo "setup failed at step: $current_step (exit $status)" | tee /dev/termination-log >&2
  fi
}
trap on_exit EXIT

step() {
  current_step="$*"
  echo "==> $*"
}

admin_user="$(cat "$SECRETS_DIR/wordpress-admin-user")"
admin_email="$(cat "$SECRETS_DIR/wordpress-admin-email")"

# The Version: header of a plugin's main file (stdin), as WordPress reads it.
header_version() {
  sed -n 's/^[[:space:]*]*Version:[[:space:]]*\([^[:space:]]*\).*/\1/p' | head -n 1
}

# WP-CLI for the WordPress container too (admin tasks, scripts/smoke-order's
# order check): this image's wp phar, copied into a volume both share.
cp "$(command -v wp)" /opt/wp-cli/wp

step "1/9 wait for MySQL to accept the WordPress user"
# PHP's mysqli, not the CLI image's mysql client (which cannot authenticate
# to MySQL 8's caching_sha2_password) and not a bare TCP check.
waited=0
# shellcheck disable=SC2016 # PHP code: $ is PHP's, not the shell's
until php -r '
  mysqli_report(MYSQLI_REPORT_OFF);
  $password = rtrim(file_get_contents(getenv("WORDPRESS_DB_PASSWORD_FILE")), "\r\n");
  $db = @mysqli_connect(getenv("WORDPRESS_DB_HOST"), getenv("WORDPRESS_DB_USER"), $password, getenv("WORDPRESS_DB_NAME"));
  exit($db ? 0 : 1);
'; do
  if [ "$waited" -ge "$DATABASE_WAIT_SECONDS" ]; then
    echo "MySQL did not accept the WordPress user within ${DATABASE_WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 5
  waited=$((waited + 5))
done

step "2/9 install WordPress core"
# --skip-plugins --skip-themes: these checks need WordPress's database, not
# WooCommerce loaded (a few tenths of a second instead of a whole load).
woocommerce_active=no
if ! wp core is-installed --skip-plugins --skip-themes; then
  # The password comes from its Secret file on stdin, never on a command line.
  # WP-CLI's --prompt echoes the completed command, password included, on
  # stdout (WP_CLI::log), so stdout goes nowhere and our own line says what
  # happened; errors (stderr) stay visible and carry no prompted value.
  wp core install --url="$STORE_URL" --title="$STORE_TITLE" --admin_user="$admin_user" \
    --admin_email="$admin_email" --skip-email --prompt=admin_password \
    <"$SECRETS_DIR/wordpress-admin-password" >/dev/null
  echo "WordPress installed at $STORE_URL (administrator $admin_user)"
elif wp plugin is-active woocommerce --skip-plugins --skip-themes; then
  woocommerce_active=yes
fi

step "3/9 install WooCommerce (${WOOCOMMERCE_SOURCE:-${WOOCOMMERCE_VERSION:-latest} from wordpress.org})"
# The installed version from its woocommerce.php header, as WordPress reads
# it (wp plugin get would load WordPress and WooCommerce for it).
installed_version=""
if [ -f wp-content/plugins/woocommerce/woocommerce.php ]; then
  installed_version="$(header_version <wp-content/plugins/woocommerce/woocommerce.php)"
fi
if [ -n "$WOOCOMMERCE_SOURCE" ]; then
  # The zip's own version decides (its woocommerce.php header), not
  # woocommerce.version: installed only when missing or another version, so
  # a restart never swaps plugin files on the shared volume under the pod
  # that still serves.
  case "$WOOCOMMERCE_SOURCE" in
    http://* | https://*)
      zip=/tmp/woocommerce-source.zip
      curl -fsSL --retry 3 -o "$zip" "$WOOCOMMERCE_SOURCE"
      ;;
    *) zip="$WOOCOMMERCE_SOURCE" ;;
  esac
  if [ ! -r "$zip" ]; then
    echo "woocommerce.source $WOOCOMMERCE_SOURCE: no such file in the setup container (a zip URL, or a path in setup.image)" >&2
    exit 1
  fi
  zip_version="$(unzip -p "$zip" woocommerce/woocommerce.php 2>/dev/null | header_version)"
  if [ -z "$zip_version" ]; then
    echo "woocommerce.source $WOOCOMMERCE_SOURCE is not a WooCommerce zip (no woocommerce/woocommerce.php with a Version: header)" >&2
    exit 1
  fi
  if [ -n "$WOOCOMMERCE_VERSION" ] && [ "$WOOCOMMERCE_VERSION" != "$zip_version" ]; then
    echo "woocommerce.version $WOOCOMMERCE_VERSION is not used: woocommerce.source is set, and its zip is $zip_version"
  fi
  if [ -z "$installed_version" ]; then
    wp plugin install "$zip"
  elif [ "$installed_version" != "$zip_version" ]; then
    echo "WooCommerce $installed_version is installed, woocommerce.source has $zip_version: replacing it"
    wp plugin install "$zip" --force
  else
    echo "WooCommerce $zip_version (woocommerce.source) is installed"
  fi
  if [ "$zip" != "$WOOCOMMERCE_SOURCE" ]; then rm -f "$zip"; fi
elif [ -z "$installed_version" ] ||
  { [ -n "$WOOCOMMERCE_VERSION" ] && [ "$installed_version" != "$WOOCOMMERCE_VERSION" ]; }; then
  if [ -n "$WOOCOMMERCE_VERSION" ]; then
    wp plugin install woocommerce --version="$WOOCOMMERCE_VERSION" --force
  else
    wp plugin install woocommerce
  fi
fi

if [ "$woocommerce_active" = no ]; then
  step "4/9 activate WooCommerce (creates the shop, cart and checkout pages)"
  wp plugin activate woocommerce
fi

# The rest in one load of WordPress and WooCommerce: files/setup-woocommerce.php
# (step 5, every run: database version, address, coming-soon off; the first
# install: steps 6-9; then the checks). It writes each step's name to SETUP_STEP_FILE
# for the termination message. --user: the store's administrator acts (as
# author of the sample products).
current_step="the setup program (setup-woocommerce.php)"
export SETUP_STEP_FILE=/tmp/storefleet-setup-step
rm -f "$SETUP_STEP_FILE"
wp eval-file "$SETUP_PROGRAM" --use-include --user="$admin_user"
current_step="done"
echo "==> the store is ready to sell at $STORE_URL"

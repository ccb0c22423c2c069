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
#     storage, the shop as the front page, sample products. A merchant who then turns COD off, changes the front
#     page or drafts every product keeps that over every restart and upgrade.
#
# Inputs (environment, from the pod spec; no value is templated into this file):
#   WORDPRESS_DB_*          database (password as a file), same as WordPress
#   STORE_URL STORE_TITLE STORE_COUNTRY STORE_CURRENCY STORE_ADDRESS STORE_CITY STORE_POSTCODE
#   WOOCOMMERCE_VERSION     pinned version ("" = latest); unused with a source
#   WOOCOMMERCE_SOURCE      zip URL or path instead of wordpress.org ("" = wordpress.org)
#   DATABASE_WAIT_SECONDS   how long to wait for MySQL
#   SECRETS_DIR             directory of the wordpress-admin-user/-password/-email files
#   PRODUCTS_FILE           sample products, one "name|price|description" a line
set -eu

current_step="start"
on_exit() {
  status=$?
  if [ "$status" -ne 0 ]; then
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

# wp with the store's administrator as the acting user (wp wc needs one).
woo() { wp wc "$@" --user="$admin_user"; }

# set_option NAME VALUE [--format=json]: an unchanged value is not an error.
set_option() {
  if ! out="$(wp option update "$@" 2>&1)"; then
    case "$out" in
      *unchanged*) ;;
      *) echo "$out" >&2; return 1 ;;
    esac
  fi
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
if ! wp core is-installed; then
  # The password comes from its Secret file on stdin, never on a command line.
  # WP-CLI's --prompt echoes the completed command, password included, on
  # stdout (WP_CLI::log), so stdout goes nowhere and our own line says what
  # happened; errors (stderr) stay visible and carry no prompted value.
  wp core install --url="$STORE_URL" --title="$STORE_TITLE" --admin_user="$admin_user" \
    --admin_email="$admin_email" --skip-email --prompt=admin_password \
    <"$SECRETS_DIR/wordpress-admin-password" >/dev/null
  echo "WordPress installed at $STORE_URL (administrator $admin_user)"
fi
# After an upgrade of the image, wordpress-files brought the core files to
# its version; the database follows (a no-op when it is already there).
wp core update-db
# The store's address is the chart's (WP_HOME/WP_SITEURL win anyway).
set_option home "$STORE_URL"
set_option siteurl "$STORE_URL"

if wp option get storefleet_first_install >/dev/null 2>&1; then
  first_install=no
  echo "first-install settings applied on $(wp option get storefleet_first_install): the merchant's settings are kept"
else
  first_install=yes
fi

step "3/9 turn off WooCommerce's coming-soon mode (before activation: WooCommerce 9.3+ turns it on for new stores)"
set_option woocommerce_coming_soon no
set_option woocommerce_store_pages_only no

step "4/9 install WooCommerce (${WOOCOMMERCE_SOURCE:-${WOOCOMMERCE_VERSION:-latest} from wordpress.org})"
installed_version="$(wp plugin get woocommerce --field=version 2>/dev/null || true)"
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
  zip_version="$(unzip -p "$zip" woocommerce/woocommerce.php 2>/dev/null |
    sed -n 's/^[[:space:]*]*Version:[[:space:]]*\([^[:space:]]*\).*/\1/p' | head -n 1)"
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

step "5/9 activate WooCommerce (creates the shop, cart and checkout pages)"
wp plugin is-active woocommerce || wp plugin activate woocommerce
# Activation may have added coming-soon mode after all: make sure it is off.
set_option woocommerce_coming_soon no
set_option woocommerce_store_pages_only no

if [ "$first_install" = yes ]; then
  step "6/9 first install: title, permalinks, no onboarding wizard, the shop as the front page"
  set_option blogname "$STORE_TITLE"
  wp rewrite structure '/%postname%/'
  wp transient delete _wc_activation_redirect || true
  set_option woocommerce_onboarding_profile '{"skipped":true}' --format=json
  set_option woocommerce_task_list_hidden_lists '["setup","extended"]' --format=json
  woo tool run install_pages
  # The README promises the shop at / (WordPress's default front page is the
  # blog). Only over that default: a front page chosen already is kept.
  if [ "$(wp option get show_on_front)" = posts ]; then
    set_option page_on_front "$(wp option get woocommerce_shop_page_id)"
    set_option show_on_front page
  fi

  step "7/9 first install: store address, currency and guest checkout"
  set_option woocommerce_default_country "$STORE_COUNTRY"
  set_option woocommerce_currency "$STORE_CURRENCY"
  set_option woocommerce_store_address "$STORE_ADDRESS"
  set_option woocommerce_store_city "$STORE_CITY"
  set_option woocommerce_store_postcode "$STORE_POSTCODE"
  set_option woocommerce_enable_guest_checkout yes

  step "8/9 first install: the payment methods Cash on delivery and Check payments, a shipping method, order storage"
  set_option woocommerce_cod_settings --format=json \
    '{"enabled":"yes","title":"Cash on delivery","description":"Pay with cash upon delivery.","instructions":"","enable_for_methods":[],"enable_for_virtual":"yes"}'
  set_option woocommerce_cheque_settings --format=json \
    '{"enabled":"yes","title":"Check payments","description":"Pay by check.","instructions":""}'
  # physical products cannot be checked out without a shipping method
  if [ "$(woo shipping_zone_method list 0 --format=count)" -eq 0 ]; then
    woo shipping_zone_method create 0 --method_id=free_shipping --enabled=true
  fi

  # High-performance order storage, as new WooCommerce stores have it — and
  # not, as otherwise, on or off depending on whether the admin logged in
  # before the first order (WooCommerce decides it on its first admin page).
  # A store from before the marker may hold orders in the posts tables:
  # WooCommerce refuses to switch until they are synced, and that must not
  # take the store down.
  if [ "$(wp option get woocommerce_custom_orders_table_enabled 2>/dev/null || true)" != yes ] &&
    ! wp wc hpos enable; then
    echo "WARNING: high-performance order storage stays off: the store's orders must be synced first (wp wc hpos sync, then wp wc hpos enable)" >&2
  fi

  step "9/9 first install: sample products (only in a store without products)"
  if [ "$(woo product list --format=count)" -eq 0 ]; then
    while IFS='|' read -r name price description; do
      [ -n "$name" ] || continue
      woo product create --name="$name" --type=simple --regular_price="$price" \
        --description="$description" --status=publish --porcelain
    done <"$PRODUCTS_FILE"
  fi
fi

step "check: the store is reachable"
test "$(wp option get woocommerce_coming_soon)" = no
test "$(wp option get woocommerce_store_pages_only)" = no
wp plugin is-active woocommerce

if [ "$first_install" = yes ]; then
  # Only now: what the merchant may change later is checked once, on the
  # store as the first install made it.
  step "check: the new store can sell"
  test "$(wp option pluck woocommerce_cod_settings enabled)" = yes
  test "$(wp option pluck woocommerce_cheque_settings enabled)" = yes
  # the shop, cart and checkout pages that install_pages made, published
  for page in shop cart checkout; do
    test "$(wp post get "$(wp option get "woocommerce_${page}_page_id")" --field=post_status)" = publish
  done
  test "$(wp option get show_on_front)" = page
  test "$(woo shipping_zone_method list 0 --format=count)" -gt 0
  test "$(woo product list --status=publish --format=count)" -gt 0
  set_option storefleet_first_install "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --autoload=no
fi
current_step="done"
echo "==> the store is ready to sell at $STORE_URL"

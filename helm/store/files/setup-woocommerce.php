<?php
/**
 * The WooCommerce setup's steps after WordPress and WooCommerce are installed
 * and active, as one program: files/setup-woocommerce.sh runs it once with
 * `wp eval-file --use-include`, so WordPress and WooCommerce load once instead
 * of once for each of ~40 `wp` calls (each 0.6-1 s on a 2-core machine). The
 * script keeps what must run before WooCommerce is loaded (the database wait,
 * `wp core install`, `wp plugin install` and `wp plugin activate`).
 *
 * What it does, and when, is the script's header: every run, only what makes
 * the store reachable (database version, address, coming-soon mode off,
 * WooCommerce active); the first install (until the option
 * storefleet_first_install marks it done, written after the first full check
 * passed) also the store's settings, which the merchant owns afterwards.
 *
 * Inputs: the environment of the woocommerce-setup container (see the script)
 * and SETUP_STEP_FILE, where each step's name is written so that the script's
 * termination message names the step that failed. No Secret value is read or
 * printed here. Failures print what failed on stderr and exit 1.
 */

/** Writes the step's name for the termination message and says it on stdout. */
function storefleet_step( $name ) {
	$file = getenv( 'SETUP_STEP_FILE' );
	if ( $file ) {
		file_put_contents( $file, $name );
	}
	echo "==> $name\n";
}

function storefleet_fail( $message ) {
	fwrite( STDERR, "$message\n" );
	exit( 1 );
}

function storefleet_env( $name ) {
	$value = getenv( $name );
	if ( false === $value ) {
		storefleet_fail( "the environment variable $name is not set (the chart sets it on the woocommerce-setup container)" );
	}
	return $value;
}

/**
 * update_option, failing loudly when the value did not stick (update_option
 * returns false for an unchanged value too, so the stored value is compared
 * with what WordPress makes of the one given — loosely: an unchanged value
 * read back from the database is "5" where sanitize_option gives 5).
 */
function storefleet_set( $name, $value, $autoload = null ) {
	update_option( $name, $value, $autoload );
	if ( get_option( $name ) != sanitize_option( $name, $value ) ) {
		storefleet_fail( "could not set the option $name" );
	}
}

/** Every run: what makes the store reachable, and nothing the merchant owns. */
function storefleet_every_run( $url ) {
	storefleet_step( "5/9 turn off WooCommerce's coming-soon mode; WordPress's database version, the store's address" );
	// After an upgrade of the image, wordpress-files brought the core files to
	// its version; the database follows (what `wp core update-db` does).
	if ( (int) get_option( 'db_version' ) !== (int) $GLOBALS['wp_db_version'] ) {
		if ( ! function_exists( 'wp_upgrade' ) ) {
			require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		}
		wp_upgrade();
		echo "WordPress database upgraded to version {$GLOBALS['wp_db_version']}\n";
	}
	// The store's address is the chart's (WP_HOME/WP_SITEURL win anyway).
	storefleet_set( 'home', $url );
	storefleet_set( 'siteurl', $url );
	// WooCommerce 9.3+ puts a new store in coming-soon mode (hidden from
	// logged-out shoppers only; an admin sees the shop): off on every run.
	// WooCommerce adds the options only where missing (add_option, on
	// activation or its first admin page), so setting them after the
	// activation holds, and nothing is served before the setup has ended.
	storefleet_set( 'woocommerce_coming_soon', 'no' );
	storefleet_set( 'woocommerce_store_pages_only', 'no' );
}

/** Published products (or of every status but trash), at most one: is there any. */
function storefleet_has_products( $status = null ) {
	$query = array( 'limit' => 1, 'return' => 'ids' );
	if ( null !== $status ) {
		$query['status'] = $status;
	}
	return count( wc_get_products( $query ) ) > 0;
}

function storefleet_first_install( $env ) {
	storefleet_step( '6/9 first install: title, permalinks, no onboarding wizard, the shop as the front page' );
	storefleet_set( 'blogname', $env['STORE_TITLE'] );
	// The rules are not flushed here: this process registered WooCommerce's
	// post types and endpoints under the old (empty) structure, so rules made
	// now lack /product/… and /checkout/order-received/… (a 404 after every
	// order, found by the acceptance run). Deleted instead, after the checks
	// (storefleet_setup): WordPress makes them anew on the next request, after
	// init, from the new structure — why `wp rewrite structure` flushes in a
	// new process.
	$GLOBALS['wp_rewrite']->set_permalink_structure( '/%postname%/' );
	delete_transient( '_wc_activation_redirect' );
	storefleet_set( 'woocommerce_onboarding_profile', array( 'skipped' => true ) );
	storefleet_set( 'woocommerce_task_list_hidden_lists', array( 'setup', 'extended' ) );
	// WooCommerce's "install pages" tool: creates shop/cart/checkout/my
	// account only where missing, never replaces a page.
	WC_Install::create_pages();
	// The README promises the shop at / (WordPress's default front page is the
	// blog). Only over that default: a front page chosen already is kept.
	if ( 'posts' === get_option( 'show_on_front' ) ) {
		storefleet_set( 'page_on_front', (string) get_option( 'woocommerce_shop_page_id' ) );
		storefleet_set( 'show_on_front', 'page' );
	}

	storefleet_step( '7/9 first install: store address, currency and guest checkout' );
	storefleet_set( 'woocommerce_default_country', $env['STORE_COUNTRY'] );
	storefleet_set( 'woocommerce_currency', $env['STORE_CURRENCY'] );
	storefleet_set( 'woocommerce_store_address', $env['STORE_ADDRESS'] );
	storefleet_set( 'woocommerce_store_city', $env['STORE_CITY'] );
	storefleet_set( 'woocommerce_store_postcode', $env['STORE_POSTCODE'] );
	storefleet_set( 'woocommerce_enable_guest_checkout', 'yes' );

	storefleet_step( '8/9 first install: the payment methods Cash on delivery and Check payments, a shipping method, order storage' );
	// WooCommerce mails the admin "Payment gateway … was just enabled — if you
	// did not enable it, disable it" (naming the admin's login) whenever a
	// gateway is turned on. Here the platform turns them on for a new store:
	// no such alarm on the merchant's first day (seen in the acceptance run).
	$no_mail = static function () {
		return false;
	};
	add_filter( 'pre_wp_mail', $no_mail );
	storefleet_set(
		'woocommerce_cod_settings',
		array(
			'enabled'            => 'yes',
			'title'              => 'Cash on delivery',
			'description'        => 'Pay with cash upon delivery.',
			'instructions'       => '',
			'enable_for_methods' => array(),
			'enable_for_virtual' => 'yes',
		)
	);
	storefleet_set(
		'woocommerce_cheque_settings',
		array(
			'enabled'      => 'yes',
			'title'        => 'Check payments',
			'description'  => 'Pay by check.',
			'instructions' => '',
		)
	);
	remove_filter( 'pre_wp_mail', $no_mail );
	// Physical products cannot be checked out without a shipping method; zone
	// 0 is "the rest of the world".
	$zone = new WC_Shipping_Zone( 0 );
	if ( ! $zone->get_shipping_methods() ) {
		$zone->add_shipping_method( 'free_shipping' );
	}
	// High-performance order storage, as new WooCommerce stores have it — and
	// not, as otherwise, on or off depending on whether the admin logged in
	// before the first order (WooCommerce decides it on its first admin page).
	// WooCommerce's own `wp wc hpos enable`, in this process: it refuses while
	// orders in the posts tables wait for a sync (a store from before the
	// marker), and that must not take the store down.
	if ( 'yes' !== get_option( 'woocommerce_custom_orders_table_enabled' ) ) {
		$hpos = WP_CLI::runcommand(
			'wc hpos enable',
			array( 'launch' => false, 'exit_error' => false, 'return' => 'all' )
		);
		if ( 0 !== $hpos->return_code ) {
			fwrite( STDERR, trim( $hpos->stderr ) . "\n" );
			fwrite( STDERR, "WARNING: high-performance order storage stays off: the store's orders must be synced first (wp wc hpos sync, then wp wc hpos enable)\n" );
		}
	}

	storefleet_step( '9/9 first install: sample products (only in a store without products)' );
	if ( ! storefleet_has_products() ) {
		$lines = file( $env['PRODUCTS_FILE'], FILE_IGNORE_NEW_LINES );
		if ( false === $lines ) {
			storefleet_fail( "cannot read the sample products ({$env['PRODUCTS_FILE']})" );
		}
		foreach ( $lines as $line ) {
			$fields = explode( '|', $line, 3 ) + array( '', '', '' );
			if ( '' === trim( $fields[0] ) ) {
				continue;
			}
			$product = new WC_Product_Simple();
			$product->set_name( $fields[0] );
			$product->set_regular_price( $fields[1] );
			$product->set_description( $fields[2] );
			$product->set_status( 'publish' );
			echo $product->save() . "\n";
		}
	}
}

/** What the store needs to be reachable at all; checked on every run. */
function storefleet_check_reachable() {
	storefleet_step( 'check: the store is reachable' );
	foreach ( array( 'woocommerce_coming_soon', 'woocommerce_store_pages_only' ) as $option ) {
		if ( 'no' !== get_option( $option ) ) {
			storefleet_fail( "$option is not 'no': logged-out shoppers would see \"coming soon\"" );
		}
	}
	if ( ! in_array( 'woocommerce/woocommerce.php', (array) get_option( 'active_plugins' ), true ) ) {
		storefleet_fail( 'WooCommerce is not active' );
	}
}

/** What the new store needs to sell; checked once, on the store as the first install made it. */
function storefleet_check_can_sell() {
	storefleet_step( 'check: the new store can sell' );
	foreach ( array( 'cod', 'cheque' ) as $gateway ) {
		$settings = get_option( "woocommerce_{$gateway}_settings" );
		if ( ! is_array( $settings ) || 'yes' !== ( $settings['enabled'] ?? '' ) ) {
			storefleet_fail( "the payment method $gateway is not enabled" );
		}
	}
	// the shop, cart and checkout pages that install_pages made, published
	foreach ( array( 'shop', 'cart', 'checkout' ) as $page ) {
		if ( 'publish' !== get_post_status( (int) get_option( "woocommerce_{$page}_page_id" ) ) ) {
			storefleet_fail( "the $page page is not published" );
		}
	}
	if ( 'page' !== get_option( 'show_on_front' ) ) {
		storefleet_fail( 'the front page is not a page' );
	}
	if ( ! ( new WC_Shipping_Zone( 0 ) )->get_shipping_methods() ) {
		storefleet_fail( 'no shipping method: physical products cannot be checked out' );
	}
	if ( ! storefleet_has_products( 'publish' ) ) {
		storefleet_fail( 'no published product' );
	}
}

function storefleet_setup() {
	$env = array();
	foreach ( array( 'STORE_URL', 'STORE_TITLE', 'STORE_COUNTRY', 'STORE_CURRENCY', 'STORE_ADDRESS', 'STORE_CITY', 'STORE_POSTCODE', 'PRODUCTS_FILE' ) as $name ) {
		$env[ $name ] = storefleet_env( $name );
	}
	if ( ! function_exists( 'WC' ) ) {
		storefleet_fail( 'WooCommerce is not loaded: is it active?' );
	}
	storefleet_every_run( $env['STORE_URL'] );
	$marker = get_option( 'storefleet_first_install' );
	if ( false !== $marker ) {
		echo "first-install settings applied on $marker: the merchant's settings are kept\n";
	} else {
		storefleet_first_install( $env );
	}
	storefleet_check_reachable();
	if ( false === $marker ) {
		storefleet_check_can_sell();
		delete_option( 'rewrite_rules' );
		storefleet_set( 'storefleet_first_install', gmdate( 'Y-m-d\TH:i:s\Z' ), false );
	}
}

storefleet_setup();

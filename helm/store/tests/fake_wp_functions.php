<?php
/**
 * The WordPress and WooCommerce functions that files/setup-woocommerce.php
 * calls, as a stand-in over fake_wp.py's state (.fake-wp-db.json): what
 * `wp eval-file` of the recording WP-CLI stand-in runs the program with. A
 * mock, for a unit test of one program (what it reads and writes, when, and
 * what it prints), not a WordPress.
 *
 * Each write is recorded as the `wp` command it stands for (argv), so the
 * tests read one list of calls whether the script or the program wrote it.
 * Any function not here is a PHP error: a new call in the program needs a
 * stand-in here first. Usage (fake_wp.py): php fake_wp_functions.php PROGRAM
 */

define( 'ABSPATH', getcwd() . '/' );
$GLOBALS['wp_db_version'] = 60421;
$GLOBALS['fake_db'] = json_decode( file_get_contents( '.fake-wp-db.json' ), true );
$GLOBALS['fake_writes'] = array();

/** What a write stands for, as a `wp` command line. */
function fake_write( ...$argv ) {
	$GLOBALS['fake_writes'][] = $argv;
}

// The state is saved however the program ends (exit(1) too), as WordPress's
// writes are in the database the moment they are made.
register_shutdown_function(
	function () {
		$db = $GLOBALS['fake_db'];
		foreach ( array( 'options', 'plugins', 'shipping', 'transients' ) as $map ) {
			$db[ $map ] = (object) $db[ $map ];  // {} when empty, string keys
		}
		file_put_contents( '.fake-wp-db.json.new', json_encode( $db, JSON_PRETTY_PRINT ) );
		rename( '.fake-wp-db.json.new', '.fake-wp-db.json' );
		file_put_contents( getenv( 'FAKE_WP_WRITES' ), json_encode( $GLOBALS['fake_writes'] ) );
	}
);

function get_option( $name, $default = false ) {
	if ( 'active_plugins' === $name ) {  // the stand-in keeps them with its plugins
		$active = array();
		foreach ( $GLOBALS['fake_db']['plugins'] as $slug => $plugin ) {
			if ( $plugin['active'] ) {
				$active[] = "$slug/$slug.php";
			}
		}
		return $active;
	}
	return array_key_exists( $name, $GLOBALS['fake_db']['options'] ) ? $GLOBALS['fake_db']['options'][ $name ] : $default;
}

/** As WordPress: sanitized, and a scalar comes back as the database gives it, a string. */
function update_option( $name, $value, $autoload = null ) {
	fake_write( 'option', 'update', $name );
	// WooCommerce (WC_Payment_Gateways, on a gateway's settings option):
	// mails the admin when a gateway turns enabled
	$old = get_option( $name );
	if ( preg_match( '/^woocommerce_(\w+)_settings$/', $name, $m ) && 'yes' === ( $value['enabled'] ?? '' )
		&& 'yes' !== ( is_array( $old ) ? ( $old['enabled'] ?? '' ) : '' ) ) {
		wp_mail( 'admin@example.com', "Payment gateway \"{$m[1]}\" enabled", 'Howdy admin, ...' );
	}
	$value = sanitize_option( $name, $value );
	$value = is_scalar( $value ) ? (string) $value : $value;
	if ( get_option( $name ) === $value ) {
		return false;
	}
	$GLOBALS['fake_db']['options'][ $name ] = $value;
	return true;
}

$GLOBALS['fake_filters'] = array();

function add_filter( $hook, $callback ) {
	$GLOBALS['fake_filters'][ $hook ][] = $callback;
	return true;
}

function remove_filter( $hook, $callback ) {
	$GLOBALS['fake_filters'][ $hook ] = array_filter(
		$GLOBALS['fake_filters'][ $hook ] ?? array(),
		function ( $c ) use ( $callback ) {
			return $c !== $callback;
		}
	);
	return true;
}

/** As WordPress: a pre_wp_mail filter's non-null answer stops it; else recorded as sent. */
function wp_mail( $to, $subject, $message ) {
	foreach ( $GLOBALS['fake_filters']['pre_wp_mail'] ?? array() as $callback ) {
		$pre = $callback( null );
		if ( null !== $pre ) {
			return $pre;
		}
	}
	fake_write( 'mail', 'send', $to, $subject );
	return true;
}

/** WordPress's absint for the page options; the rest as given. */
function sanitize_option( $name, $value ) {
	return in_array( $name, array( 'page_on_front', 'page_for_posts' ), true ) ? abs( (int) $value ) : $value;
}

function delete_transient( $name ) {
	fake_write( 'transient', 'delete', $name );
	$found = array_key_exists( $name, $GLOBALS['fake_db']['transients'] );
	unset( $GLOBALS['fake_db']['transients'][ $name ] );
	return $found;
}

function wp_upgrade() {
	fake_write( 'core', 'update-db' );
	$GLOBALS['fake_db']['options']['db_version'] = (string) $GLOBALS['wp_db_version'];
}

function delete_option( $name ) {
	fake_write( 'option', 'delete', $name );
	$found = array_key_exists( $name, $GLOBALS['fake_db']['options'] );
	unset( $GLOBALS['fake_db']['options'][ $name ] );
	return $found;
}

class Fake_WP_Rewrite {
	public function set_permalink_structure( $structure ) {
		fake_write( 'rewrite', 'structure', $structure );
		$GLOBALS['fake_db']['options']['permalink_structure'] = $structure;
	}
}
$GLOBALS['wp_rewrite'] = new Fake_WP_Rewrite();

function fake_post( $id ) {
	foreach ( $GLOBALS['fake_db']['posts'] as $post ) {
		if ( (string) $post['ID'] === (string) $id ) {
			return $post;
		}
	}
	return null;
}

function fake_new_post( $type, $title, $status, $meta = array() ) {
	$id = $GLOBALS['fake_db']['next_id']++;
	$GLOBALS['fake_db']['posts'][] = array( 'ID' => $id, 'post_type' => $type, 'post_title' => $title, 'post_status' => $status ) + $meta;
	return $id;
}

function get_post_status( $id ) {
	$post = fake_post( $id );
	return $post ? $post['post_status'] : false;
}

class WP_CLI {
	/** Only what the program runs in-process: WooCommerce's `wp wc hpos enable`. */
	public static function runcommand( $command, $options ) {
		if ( 'wc hpos enable' !== $command || false !== $options['launch'] || 'all' !== $options['return'] ) {
			throw new Exception( "the stub does not know runcommand('$command') with these options" );
		}
		fake_write( 'wc', 'hpos', 'enable' );
		foreach ( $GLOBALS['fake_db']['posts'] as $post ) {
			if ( 'shop_order' === $post['post_type'] ) {
				return (object) array(
					'stdout'      => 'Running pre-enable checks...',
					'stderr'      => 'Warning: [Failed] There are orders pending sync. Please run `wp wc hpos sync` to sync pending orders.' . "\n" .
						'Error: HPOS pre-checks failed, please see the errors above',
					'return_code' => 1,
				);
			}
		}
		$GLOBALS['fake_db']['options']['woocommerce_custom_orders_table_enabled'] = 'yes';
		return (object) array( 'stdout' => 'Success: HPOS enabled.', 'stderr' => '', 'return_code' => 0 );
	}
}

// WooCommerce: there only when the plugin is active (as WordPress loads it).
if ( getenv( 'FAKE_WP_WOOCOMMERCE_ACTIVE' ) === '1' ) {
	function WC() {
		return true;
	}

	class WC_Install {
		public static function create_pages() {
			fake_write( 'wc', 'tool', 'run', 'install_pages' );
			foreach ( array( 'shop' => 'Shop', 'cart' => 'Cart', 'checkout' => 'Checkout', 'myaccount' => 'My account' ) as $page => $title ) {
				$key = "woocommerce_{$page}_page_id";
				if ( null === fake_post( get_option( $key, '' ) ) ) {
					$GLOBALS['fake_db']['options'][ $key ] = (string) fake_new_post( 'page', $title, 'publish' );
				}
			}
		}
	}

	class WC_Shipping_Zone {
		private $id;

		public function __construct( $id ) {
			$this->id = (string) $id;
		}

		public function get_shipping_methods() {
			return $GLOBALS['fake_db']['shipping'][ $this->id ] ?? array();
		}

		public function add_shipping_method( $type ) {
			fake_write( 'wc', 'shipping_zone_method', 'create', $this->id );
			$methods   = $this->get_shipping_methods();
			$methods[] = array( 'instance_id' => count( $methods ) + 1, 'method_id' => $type, 'enabled' => true );
			$GLOBALS['fake_db']['shipping'][ $this->id ] = $methods;
			return count( $methods );
		}
	}

	class WC_Product_Simple {
		private $data = array( 'status' => 'draft' );

		public function __call( $method, $args ) {
			if ( ! in_array( $method, array( 'set_name', 'set_regular_price', 'set_description', 'set_status' ), true ) ) {
				throw new Exception( "the stub's WC_Product_Simple has no $method" );
			}
			$this->data[ substr( $method, 4 ) ] = $args[0];
		}

		public function save() {
			fake_write( 'wc', 'product', 'create' );
			return fake_new_post( 'product', $this->data['name'], $this->data['status'], array( 'regular_price' => $this->data['regular_price'] ) );
		}
	}

	/** WC_Product_Query's default statuses: every one but trash. */
	function wc_get_products( $query ) {
		$statuses = (array) ( $query['status'] ?? array( 'draft', 'pending', 'private', 'publish' ) );
		$ids      = array();
		foreach ( $GLOBALS['fake_db']['posts'] as $post ) {
			if ( 'product' === $post['post_type'] && in_array( $post['post_status'], $statuses, true ) ) {
				$ids[] = $post['ID'];
			}
		}
		return array_slice( $ids, 0, $query['limit'] );
	}
}

require $argv[1];

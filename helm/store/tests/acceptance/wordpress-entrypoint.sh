#!/bin/sh
# Stand-in for the official wordpress image's docker-entrypoint.sh (acceptance
# harness): for apache2* commands the image copies WordPress when the volume
# has none and writes wp-config.php when missing. The chart's init container
# wordpress-files has done both before this runs, so here it only checks that
# they are there (the image would copy them with its tar, which fails as uid 33:
# issue 17 defect 1) and then runs the command.
set -eu
case "$1" in
  apache2* | php-fpm)
    if [ ! -e index.php ] || [ ! -e wp-includes/version.php ] || [ ! -s wp-config.php ]; then
      echo "wordpress (stand-in): no WordPress or no wp-config.php in $PWD: wordpress-files did not run?" >&2
      exit 1
    fi
    ;;
esac
exec "$@"

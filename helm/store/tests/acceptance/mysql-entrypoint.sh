#!/bin/sh
# Stand-in for the official mysql image's docker-entrypoint.sh, with Debian's
# MariaDB standing in for MySQL 8.4 (acceptance harness): arguments starting
# with '-' are mysqld's; a datadir without a database is initialised with a
# socket-only temporary server that sets the root password and creates
# MYSQL_DATABASE and MYSQL_USER (passwords from MYSQL_*_FILE) — root as the
# image has it, root@localhost and root@'%' only (mariadb-install-db also makes
# password-less root@127.0.0.1 and root@::1) — then the
# server runs in the foreground with the pod's arguments.
set -eu
case "${1:-}" in -*) set -- mysqld "$@" ;; esac
[ "$1" = mysqld ] || exec "$@"
shift
file_env() { tr -d '\r\n' <"$1"; }
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock
if [ ! -d "$datadir/mysql" ]; then
  echo "mysql (stand-in): initialising $datadir"
  mariadb-install-db --no-defaults --datadir="$datadir" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  mariadbd --no-defaults --datadir="$datadir" --socket="$socket" --skip-networking \
    --pid-file=/run/mysqld/init.pid &
  pid=$!
  i=0
  until mariadb-admin --no-defaults --socket="$socket" -uroot ping >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 120 ] || { echo "mysql (stand-in): temporary server did not start" >&2; exit 1; }
    sleep 0.5
  done
  root_password="$(file_env "$MYSQL_ROOT_PASSWORD_FILE")"
  password="$(file_env "$MYSQL_PASSWORD_FILE")"
  # the passwords on stdin, never on a command line
  mariadb --no-defaults --socket="$socket" -uroot <<SQL
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_password';
CREATE USER 'root'@'%' IDENTIFIED BY '$root_password';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;
CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$password';
GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';
FLUSH PRIVILEGES;
SQL
  kill "$pid"
  wait "$pid" || true
  echo "mysql (stand-in): initialised"
fi
exec mariadbd --no-defaults --datadir="$datadir" --socket="$socket" --port=3306 --bind-address=0.0.0.0 \
  --pid-file=/run/mysqld/mysqld.pid "$@"

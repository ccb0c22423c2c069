#!/bin/sh
# The WordPress files: brings the image's WordPress (/usr/src/wordpress) into
# the volume (the working directory, /var/www/html) and writes wp-config.php.
# Runs in init container wordpress-files (the wordpress image, uid 33) before
# the setup. It replaces the image's docker-ensure-installed.sh, whose tar copy
# fails as non-root on every common volume (it chmods the volume root it does
# not own: root:33 2775 as fsGroup makes it, root:root 0777 as local-path makes
# it), and which never upgrades WordPress:
#   - no WordPress in the volume (no index.php): copy it, entry by entry, never
#     touching the volume root itself; in wp-content only what is missing;
#   - WordPress of another version than the image's: bring the core files to
#     the image's version (wp-admin and wp-includes replaced whole, the files
#     at the top overwritten); wp-content (plugins, themes, uploads),
#     wp-config.php and .htaccess are the store's and stay as they are. The
#     setup then upgrades the database (wp core update-db);
#   - the same version: nothing is copied.
# wp-config.php is written when missing, from the image's wp-config-docker.php,
# exactly as the image does (it reads WORDPRESS_* at runtime).
set -eu

src=/usr/src/wordpress

# $wp_version of a WordPress tree ("" when there is none)
version_of() {
  sed -n "s/^\$wp_version = '\([^']*\)';.*/\1/p" "$1/wp-includes/version.php" 2>/dev/null || true
}

# An upgrade interrupted between its two renames leaves the old directory
# aside: put it back, then forget every half-made copy.
for dir in wp-admin wp-includes; do
  if [ ! -e "$dir" ] && [ -d ".storefleet-$dir.old" ]; then
    mv ".storefleet-$dir.old" "$dir"
  fi
  rm -rf ".storefleet-$dir.new" ".storefleet-$dir.old"
done

image_version="$(version_of "$src")"
if [ -z "$image_version" ]; then
  echo "wordpress-files: no WordPress in $src (wp-includes/version.php): is the image a wordpress image?" >&2
  exit 1
fi
volume_version="$(version_of .)"

# The top-level files of the image (wp-*.php, xmlrpc.php, wp-config-docker.php,
# ...), each replaced in one rename; index.php last: it marks a complete copy.
copy_top_file() {
  cp "$src/$1" "./$1.storefleet-new"
  mv "./$1.storefleet-new" "./$1"
}
copy_top_files() {
  for file in "$src"/*; do
    if [ -f "$file" ] && [ "${file##*/}" != index.php ]; then
      copy_top_file "${file##*/}"
    fi
  done
  copy_top_file index.php
}

if [ ! -e index.php ]; then
  echo "wordpress-files: WordPress not found in $PWD - copying WordPress $image_version"
  if [ -n "$(find . -mindepth 1 -maxdepth 1 ! -name wp-content ! -name 'lost+found' | head -n 1)" ]; then
    echo "wordpress-files: WARNING: $PWD is not empty (copying anyhow)"
  fi
  for dir in wp-admin wp-includes; do
    cp -R "$src/$dir" .
  done
  if [ ! -e .htaccess ] && [ -e "$src/.htaccess" ]; then
    cp "$src/.htaccess" .htaccess
  fi
  # wp-content: the folders and what they hold, each only when missing (a
  # kept wp-content keeps its own plugins and themes, as the image does)
  mkdir -p wp-content
  for item in "$src"/wp-content/* "$src"/wp-content/*/*; do
    [ -e "$item" ] || continue
    rel="${item#"$src"/}"
    if [ ! -e "./$rel" ]; then
      cp -R "$item" "./$rel"
    fi
  done
  copy_top_files
  echo "wordpress-files: WordPress $image_version copied into $PWD"
elif [ "$volume_version" != "$image_version" ]; then
  echo "wordpress-files: WordPress ${volume_version:-of unknown version} in $PWD, the image has $image_version - bringing the core files to $image_version (wp-content, wp-config.php and .htaccess kept)"
  for dir in wp-admin wp-includes; do
    cp -R "$src/$dir" ".storefleet-$dir.new"
  done
  copy_top_files
  # wp-includes last: its version.php says which version the volume has
  for dir in wp-admin wp-includes; do
    mv "$dir" ".storefleet-$dir.old"
    mv ".storefleet-$dir.new" "$dir"
    rm -rf ".storefleet-$dir.old"
  done
  echo "wordpress-files: WordPress core files are at $image_version"
else
  echo "wordpress-files: WordPress $image_version is in $PWD"
fi

# wp-config.php, as the image writes it: its wp-config-docker.php with the
# default salts made unique (the pod's WORDPRESS_*_FILE salts win at runtime).
if [ ! -s wp-config.php ] && env | grep -q '^WORDPRESS_'; then
  for config in wp-config-docker.php "$src/wp-config-docker.php"; do
    if [ -s "$config" ]; then
      echo "wordpress-files: no wp-config.php in $PWD - writing it from $config"
      awk '
        /put your unique phrase here/ {
          cmd = "head -c1m /dev/urandom | sha1sum | cut -d\\  -f1"
          cmd | getline str
          close(cmd)
          gsub("put your unique phrase here", str)
        }
        { print }
      ' "$config" >wp-config.php.storefleet-new
      mv wp-config.php.storefleet-new wp-config.php
      break
    fi
  done
fi

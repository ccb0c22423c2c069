{{/*
Names. One store per namespace, so objects have fixed, self-explaining names
(Deployment wordpress, StatefulSet mysql, ...) that the readiness-checker's
messages, scripts/smoke-order and the docs use as they are.
*/}}

{{- define "store.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The store id as a string. create-store passes it with --set, which turns an
all-digit id (12345678) into a number; toString prints it back as it was typed.
*/}}
{{- define "store.id" -}}
{{- $id := toString .Values.storeId -}}
{{- if not (regexMatch "^[a-z0-9]{8}$" $id) -}}
{{- fail (printf "storeId must be 8 characters of [a-z0-9] (create-store passes --set storeId=<id>); got %q" $id) -}}
{{- end -}}
{{ $id }}
{{- end }}

{{/* The store's namespace: namespace.name, else the release namespace. */}}
{{- define "store.namespace" -}}
{{ .Values.namespace.name | default .Release.Namespace }}
{{- end }}

{{/* The Secret holding the database passwords and salts: existingSecret, else the chart's own. */}}
{{- define "store.secretName" -}}
{{ .Values.existingSecret | default "store-credentials" }}
{{- end }}

{{/*
The Secret holding the admin login: existingAdminSecret; else existingSecret
(a store installed before the split keeps every key there); else the chart's
own store-admin.
*/}}
{{- define "store.adminSecretName" -}}
{{ .Values.existingAdminSecret | default .Values.existingSecret | default "store-admin" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "store.labels" -}}
helm.sh/chart: {{ include "store.chart" . }}
app.kubernetes.io/name: woocommerce
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: storefleet
storefleet.io/store-id: {{ include "store.id" . | quote }}
storefleet.io/engine: woocommerce
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component: include with (dict "ctx" $ "component" "wordpress"). */}}
{{- define "store.componentLabels" -}}
{{ include "store.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one component (immutable: never add to them). */}}
{{- define "store.selectorLabels" -}}
app.kubernetes.io/name: woocommerce
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* metadata.namespace + labels of a namespaced object of one component. */}}
{{- define "store.metadata" -}}
namespace: {{ include "store.namespace" .ctx }}
labels:
  {{- include "store.componentLabels" . | nindent 2 }}
{{- end }}

{{/* The storefront's URL, from the ingress host. */}}
{{- define "store.url" -}}
{{- if not .Values.ingress.host -}}
{{- fail "ingress.host is required: the storefront's host name (create-store passes --set-string ingress.host=<host>)" -}}
{{- end -}}
{{ ternary "https" "http" .Values.ingress.tls.enabled }}://{{ .Values.ingress.host }}
{{- end }}

{{- define "store.image" -}}
{{- /* A bare digest (tag "@sha256:…") is repo@sha256:…; "repo:@sha256:…" is no image reference. */ -}}
{{- if hasPrefix "@" .tag -}}
{{ printf "%s%s" .repository .tag }}
{{- else -}}
{{ printf "%s:%s" .repository .tag }}
{{- end -}}
{{- end }}

{{/*
Container security context: no privilege escalation, no capabilities, a
read-only root file system (writable paths are emptyDir volumes).
*/}}
{{- define "store.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* The MySQL host WordPress connects to (the headless Service of the StatefulSet). */}}
{{- define "store.mysqlHost" -}}
mysql.{{ include "store.namespace" . }}.svc
{{- end }}

{{- define "store.secretsDir" -}}
/run/secrets/store
{{- end }}

{{/* The eight WordPress keys and salts, as in the Secret (docs/development.md). */}}
{{- define "store.saltKeys" -}}
auth-key secure-auth-key logged-in-key nonce-key auth-salt secure-auth-salt logged-in-salt nonce-salt
{{- end }}

{{/*
Environment shared by WordPress and the WP-CLI setup: the official image's
wp-config-docker.php reads it on every request, so both must see the same.
Passwords and salts are files (the *_FILE variants), never values in env.
Include with (dict "ctx" $ "setup" true) for the setup container, the one
place that may install and update plugins (DISALLOW_FILE_MODS is left out
there only), or (dict "ctx" $) for every other container.
*/}}
{{- define "store.wordpressEnv" -}}
{{- $ctx := .ctx -}}
- name: WORDPRESS_DB_HOST
  value: {{ include "store.mysqlHost" $ctx | quote }}
- name: WORDPRESS_DB_NAME
  value: {{ $ctx.Values.mysql.database | quote }}
- name: WORDPRESS_DB_USER
  value: {{ $ctx.Values.mysql.user | quote }}
- name: WORDPRESS_DB_PASSWORD_FILE
  value: {{ include "store.secretsDir" $ctx }}/mysql-password
{{- range splitList " " (include "store.saltKeys" $ctx) }}
- name: WORDPRESS_{{ . | upper | replace "-" "_" }}_FILE
  value: {{ include "store.secretsDir" $ctx }}/wordpress-{{ . }}
{{- end }}
- name: WORDPRESS_CONFIG_EXTRA
  value: |
    define('WP_HOME', '{{ include "store.url" $ctx }}');
    define('WP_SITEURL', '{{ include "store.url" $ctx }}');
    define('FS_METHOD', 'direct');
    define('WP_MEMORY_LIMIT', '{{ include "store.phpMemoryLimit" $ctx }}');
    // Versions are pinned by the chart (image tag, woocommerce.version): no
    // unattended updates writing into the volume behind its back.
    define('AUTOMATIC_UPDATER_DISABLED', true);
    // No theme/plugin file editor in wp-admin: a stolen admin session must
    // not turn into PHP code on the store's volume.
    define('DISALLOW_FILE_EDIT', true);
    {{- if not .setup }}
    // Nor a plugin or theme installed, updated or deleted from wp-admin: a
    // stolen admin session must not upload code either. Only the setup
    // container changes plugins, at the versions the chart pins.
    define('DISALLOW_FILE_MODS', true);
    {{- include "store.cronToItself" $ctx | nindent 4 }}
    {{- end }}
    {{- if $ctx.Values.ingress.tls.enabled }}
    // With TLS, wp-admin and the login cookie only over https.
    define('FORCE_SSL_ADMIN', true);
    {{- end }}
    define('WP_AUTO_UPDATE_CORE', false);
    {{- include "store.smtpConfig" $ctx | nindent 4 }}
{{- end }}

{{/*
WP-Cron (and so Action Scheduler: WooCommerce's emails, analytics) is spawned
by a request to the store's public URL, which leaves the pod: with
networkPolicy.internetEgress off (values-prod) it is dropped and background
jobs never run. The serving container sends it to its own Apache instead
(loopback, the container's port 80) with the site's Host header, so the same
virtual host answers. TLS verification is off for that loopback call only
(no certificate names 127.0.0.1); the call is plain HTTP inside the pod.
*/}}
{{- define "store.cronToItself" -}}
// WP-Cron to this pod's own Apache (docs/store-chart.md, Egress)
$GLOBALS['wp_filter']['cron_request'][10][] = array('accepted_args' => 1, 'function' => static function ($request) {
    $site = parse_url($request['url']);
    $request['url'] = 'http://127.0.0.1:80' . ($site['path'] ?? '/wp-cron.php')
        . (isset($site['query']) ? '?' . $site['query'] : '');
    $request['args']['headers']['Host'] = $site['host'] . (isset($site['port']) ? ':' . $site['port'] : '');
    $request['args']['sslverify'] = false;
    return $request;
});
{{- end }}

{{/*
WordPress's mailer over SMTP (smtp.*): the image has no sendmail, so without
this every order email fails. Hooks pre-registered in $wp_filter (WordPress
builds them into WP_Hook when plugin.php loads), so no plugin and no file in
the store's volume is needed. The credentials are files of the Secret
smtp.existingSecret, mounted only into the WordPress container; the values
are restricted by the schema to characters that cannot end a PHP string.
*/}}
{{- define "store.smtpConfig" -}}
{{- with .Values.smtp }}
{{- if .enabled }}
// SMTP for wp_mail() (values smtp.*, docs/store-chart.md)
$GLOBALS['wp_filter']['phpmailer_init'][10][] = array('accepted_args' => 1, 'function' => static function ($mail) {
    $mail->isSMTP();
    $mail->Host = '{{ required "smtp.host is required with smtp.enabled" .host }}';
    $mail->Port = {{ .port | int }};
    $mail->SMTPSecure = '{{ if eq .encryption "none" }}{{ else }}{{ .encryption }}{{ end }}';
    $mail->SMTPAutoTLS = {{ if eq .encryption "none" }}false{{ else }}true{{ end }};
    $dir = '/run/secrets/smtp';
    if (is_readable("$dir/smtp-username") && trim(file_get_contents("$dir/smtp-username")) !== '') {
        $mail->SMTPAuth = true;
        $mail->Username = trim(file_get_contents("$dir/smtp-username"));
        $mail->Password = rtrim(file_get_contents("$dir/smtp-password"), "\r\n");
    }
});
// The address last (PHP_INT_MAX): WooCommerce sets its own "From address"
// (default: the admin's email) at priority 10 for its emails, which a relay
// refuses or SPF fails; that setting stays their Reply-To. The name is a
// default only: WooCommerce's "From name" wins for its emails.
$GLOBALS['wp_filter']['wp_mail_from'][PHP_INT_MAX][] = array('accepted_args' => 1, 'function' => static function () {
    return '{{ required "smtp.from is required with smtp.enabled" .from }}';
});
$GLOBALS['wp_filter']['wp_mail_from_name'][10][] = array('accepted_args' => 1, 'function' => static function () {
    return '{{ .fromName | default $.Values.store.title | replace "\\" "\\\\" | replace "'" "\\'" }}';
});
{{- end }}
{{- end }}
{{- end }}

{{/*
A projected volume with only the Secret keys one container reads, so each
container sees exactly what it needs: include with
(dict "ctx" $ "name" "x" "keys" (list "mysql-password")), and "secret" for another
Secret than store.secretName.
*/}}
{{- define "store.secretVolume" -}}
- name: {{ .name }}
  secret:
    secretName: {{ .secret | default (include "store.secretName" .ctx) }}
    defaultMode: 0440
    items:
      {{- range .keys }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}

{{- define "store.wordpressSecretKeys" -}}
{{- $keys := list "mysql-password" -}}
{{- range splitList " " (include "store.saltKeys" .) -}}
{{- $keys = append $keys (printf "wordpress-%s" .) -}}
{{- end -}}
{{ join " " $keys }}
{{- end }}

{{/*
A Kubernetes memory quantity (e.g. 512Mi, 1Gi, 1.5G, 536870912) in whole MiB.
*/}}
{{- define "store.mebibytes" -}}
{{- $q := toString . -}}
{{- $factors := list (list "Ki" 1024.0) (list "Mi" 1048576.0) (list "Gi" 1073741824.0) (list "Ti" 1099511627776.0) (list "k" 1000.0) (list "M" 1000000.0) (list "G" 1000000000.0) (list "T" 1000000000000.0) (list "m" 0.001) -}}
{{- $number := $q -}}
{{- $factor := 1.0 -}}
{{- range $factors -}}
{{- if and (eq $factor 1.0) (hasSuffix (index . 0) $q) -}}
{{- $number = trimSuffix (index . 0) $q -}}
{{- $factor = index . 1 -}}
{{- end -}}
{{- end -}}
{{- if not (regexMatch "^[0-9]+(\\.[0-9]+)?$" $number) -}}
{{- fail (printf "cannot read the memory quantity %q (e.g. 512Mi, 1Gi)" $q) -}}
{{- end -}}
{{- divf (mulf (float64 $number) $factor) 1048576.0 | floor | int -}}
{{- end }}

{{/*
PHP's memory for one request (WP_MEMORY_LIMIT, WordPress and WP-CLI):
wordpress.phpMemoryLimit, or half the WordPress container's memory limit, at
most 512M (256M for 512Mi).
*/}}
{{- define "store.phpMemoryLimit" -}}
{{- if .Values.wordpress.phpMemoryLimit -}}
{{- .Values.wordpress.phpMemoryLimit -}}
{{- else -}}
{{- $limit := include "store.mebibytes" .Values.wordpress.resources.limits.memory | int -}}
{{- printf "%dM" (min 512 (div $limit 2)) -}}
{{- end -}}
{{- end }}

{{/*
Apache prefork's MaxRequestWorkers: wordpress.apache.maxRequestWorkers, or as
many workers as fit the WordPress container's memory limit after the reserve,
each budgeted wordpress.apache.workerMemory (7 for 512Mi, 64Mi reserve, 64Mi a
worker); at least 1. Apache's default, 150, would be far past the limit.
*/}}
{{- define "store.maxRequestWorkers" -}}
{{- $apache := .Values.wordpress.apache -}}
{{- if $apache.maxRequestWorkers -}}
{{- $apache.maxRequestWorkers -}}
{{- else -}}
{{- $limit := include "store.mebibytes" .Values.wordpress.resources.limits.memory | int -}}
{{- $reserve := include "store.mebibytes" $apache.reserveMemory | int -}}
{{- $worker := include "store.mebibytes" $apache.workerMemory | int -}}
{{- max 1 (div (sub $limit $reserve) (max 1 $worker)) -}}
{{- end -}}
{{- end }}

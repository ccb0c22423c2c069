{{/*
Names. Most objects have fixed names that knative/ and the functions refer to
(docs/development.md, "Names in a cluster"); only the chart's own internals
(PostgreSQL, the dashboard) are prefixed `storefleet-`.
*/}}

{{- define "platform.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "platform.labels" -}}
helm.sh/chart: {{ include "platform.chart" . }}
app.kubernetes.io/name: storefleet
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: storefleet
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "x"). */}}
{{- define "platform.selectorLabels" -}}
app.kubernetes.io/name: storefleet
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The tag of Storefleet's images. */}}
{{- define "platform.tag" -}}
{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
A Storefleet image: a bare name goes under image.registry with image.tag; a
value with a `/` in it is taken as a full reference (skaffold sets those).
*/}}
{{- define "platform.image" -}}
{{- $name := .name -}}
{{- if contains "/" $name -}}
{{ $name }}
{{- else -}}
{{ printf "%s/%s:%s" (trimSuffix "/" .ctx.Values.image.registry) $name (include "platform.tag" .ctx) }}
{{- end -}}
{{- end }}

{{/* The namespace of the functions (the gateway's upstreams). */}}
{{- define "platform.functionsNamespace" -}}
{{ .Values.dashboard.functionsNamespace | default .Release.Namespace }}
{{- end }}

{{- define "platform.postgresql.host" -}}
{{ printf "storefleet-postgresql.%s.svc" .Release.Namespace }}
{{- end }}

{{/*
A value that must survive upgrades: the existing Secret's key when the Secret
is there (lookup), else a new random string. `helm template` and client-side
dry runs cannot look up, so they always show a fresh value.
Include with (dict "ctx" $ "secret" "name" "key" "k" "length" 32).
*/}}
{{- define "platform.persistentRandom" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{ index $existing.data .key | b64dec }}
{{- else -}}
{{ randAlphaNum (int .length) }}
{{- end -}}
{{- end }}

{{/* Pod-level security context shared by the chart's pods. */}}
{{- define "platform.podSecurityContext" -}}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security context shared by the chart's containers. */}}
{{- define "platform.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* An egress rule for cluster DNS (kube-dns / CoreDNS in kube-system). */}}
{{- define "platform.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/* CEL: is NAME (object, oldObject, namespaceObject) a store namespace:
store-<id>, labelled as Storefleet's with the same id. */}}
{{- define "platform.isStoreNamespace" -}}
{{ . }}.metadata.name.matches('^store-[a-z0-9]{8}$') &&
        has({{ . }}.metadata.labels) &&
        'app.kubernetes.io/managed-by' in {{ . }}.metadata.labels &&
        {{ . }}.metadata.labels['app.kubernetes.io/managed-by'] == 'storefleet' &&
        'storefleet.io/store-id' in {{ . }}.metadata.labels &&
        {{ . }}.metadata.name == 'store-' + {{ . }}.metadata.labels['storefleet.io/store-id']
{{- end }}

{{/* An egress rule for the Kubernetes API server (networkPolicy.apiServer). */}}
{{- define "platform.apiServerEgress" -}}
{{- $api := .Values.networkPolicy.apiServer -}}
- {{- with $api.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . | quote }}
    {{- end }}
  {{- end }}
  ports:
    {{- range $api.ports }}
    - port: {{ int . }}
      protocol: TCP
    {{- end }}
{{- end }}

{{/* An egress rule for PostgreSQL: this chart's pods, or any address on 5432
when the database is external. */}}
{{- define "platform.postgresqlEgress" -}}
- {{- if eq .Values.database.mode "in-cluster" }}
  to:
    - podSelector:
        matchLabels:
          {{- include "platform.selectorLabels" (dict "ctx" . "component" "postgresql") | nindent 10 }}
  {{- end }}
  ports:
    - port: 5432
      protocol: TCP
{{- end }}

{{/* An egress rule for the broker ingress (Knative Eventing's MT channel-based broker). */}}
{{- define "platform.brokerIngressEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.knativeEventingNamespace | quote }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.brokerIngressPodLabels | nindent 10 }}
  ports:
    - port: 8080
      protocol: TCP
    - port: 8443
      protocol: TCP
{{- end }}

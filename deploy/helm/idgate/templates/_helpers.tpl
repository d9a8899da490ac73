{{/* The chart's name. */}}
{{- define "idgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the prefix of every object. */}}
{{- define "idgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels the Deployment's selector, the PDB, HPA and Service use. */}}
{{- define "idgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "idgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "idgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "idgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "idgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "idgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
idgate's config.yaml: .Values.config with the listen addresses taken from
.Values.ports (gRPC on loopback in sidecar mode: only Envoy in the same pod
calls it) and redis.addrs from .Values.redis.addrs (into cache.redis.addrs
when the config still uses that deprecated section).
*/}}
{{- define "idgate.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $server := default dict (get $cfg "server") }}
{{- if eq .Values.mode "sidecar" }}
{{- $_ := set $server "grpc_addr" (printf "127.0.0.1:%d" (int .Values.ports.grpc)) }}
{{- else }}
{{- $_ := set $server "grpc_addr" (printf ":%d" (int .Values.ports.grpc)) }}
{{- end }}
{{- $_ := set $server "http_addr" (printf ":%d" (int .Values.ports.http)) }}
{{- $_ := set $cfg "server" $server }}
{{- if .Values.redis.addrs }}
{{- $cache := default dict (get $cfg "cache") }}
{{- if hasKey $cache "redis" }}
{{- /* a config still on the deprecated cache.redis: keep it in one place */}}
{{- $r := default dict (get $cache "redis") }}
{{- $_ := set $r "addrs" .Values.redis.addrs }}
{{- $_ := set $cache "redis" $r }}
{{- $_ := set $cfg "cache" $cache }}
{{- else }}
{{- $r := default dict (get $cfg "redis") }}
{{- $_ := set $r "addrs" .Values.redis.addrs }}
{{- $_ := set $cfg "redis" $r }}
{{- end }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

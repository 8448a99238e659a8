{{/* The release's full name, at most 40 characters so that suffixes stay within 63. */}}
{{- define "monkonomy.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "monkonomy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: monkonomy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: monkonomy
{{- end -}}

{{- define "monkonomy.operator.selector" -}}
app.kubernetes.io/name: monkonomy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "monkonomy.redis.selector" -}}
app.kubernetes.io/name: monkonomy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "monkonomy.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "monkonomy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (printf "%s-operator" (include "monkonomy.fullname" .)) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "monkonomy.leaderElection" -}}
{{- if or .Values.operator.leaderElection (gt (int .Values.operator.replicas) 1) -}}true{{- end -}}
{{- end -}}

{{- define "monkonomy.marketNamespace" -}}
{{- .Values.market.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* Namespaces where teams get their Role: the list, or the market's namespace. */}}
{{- define "monkonomy.teamNamespaces" -}}
{{- if .Values.teams.namespaces -}}
{{- toJson (uniq .Values.teams.namespaces) -}}
{{- else -}}
{{- toJson (list (include "monkonomy.marketNamespace" .)) -}}
{{- end -}}
{{- end -}}

{{- define "monkonomy.redis.name" -}}
{{- printf "%s-redis" (include "monkonomy.fullname" .) -}}
{{- end -}}

{{/* host:port of Redis as the operator, the engines and the traders reach it. */}}
{{- define "monkonomy.redis.address" -}}
{{- if .Values.redis.external.enabled -}}
{{- .Values.redis.external.address -}}
{{- else -}}
{{- printf "%s.%s.svc.%s:6379" (include "monkonomy.redis.name" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}
{{- end -}}

{{- define "monkonomy.redis.secretName" -}}
{{- if .Values.redis.external.enabled -}}
{{- .Values.redis.external.passwordSecret.name -}}
{{- else -}}
{{- include "monkonomy.redis.name" . -}}
{{- end -}}
{{- end -}}

{{- define "monkonomy.redis.secretKey" -}}
{{- if .Values.redis.external.enabled -}}
{{- .Values.redis.external.passwordSecret.key | default "password" -}}
{{- else -}}
password
{{- end -}}
{{- end -}}

{{/*
Rules that span several values, which the JSON schema cannot say as plainly. Every
template includes this, so that a wrong combination fails before anything is applied.
*/}}
{{- define "monkonomy.validate" -}}
{{- if .Values.redis.external.enabled -}}
{{- if not .Values.redis.external.address -}}
{{- fail "redis.external.enabled is true but redis.external.address is empty: set it to the host:port of your Redis, e.g. --set redis.external.address=redis.example.svc:6379" -}}
{{- end -}}
{{- if not .Values.redis.external.passwordSecret.name -}}
{{- fail "redis.external.enabled is true but redis.external.passwordSecret.name is empty: create a Secret with the Redis admin password (kubectl create secret generic redis-admin --from-literal=password=...) and set redis.external.passwordSecret.name" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.market.ingress.enabled (not .Values.market.create) -}}
{{- fail "market.ingress.enabled is true but market.create is false: the Ingress serves the dashboard of the Market this chart creates; set market.create=true" -}}
{{- end -}}
{{- if and .Values.market.ingress.enabled (not .Values.market.ingress.host) -}}
{{- fail "market.ingress.enabled is true but market.ingress.host is empty: set the host name the big screen opens, e.g. --set market.ingress.host=market.example.org" -}}
{{- end -}}
{{- end -}}

{{/*
Redis's maxmemory: redis.maxmemory, or three quarters of Redis's memory limit in bytes
(the rest is Redis's own: connections' buffers, fragmentation, the append-only file's
rewrite); empty without either. At it Redis refuses writes instead of being killed.
*/}}
{{- define "monkonomy.redis.maxmemory" -}}
{{- $limit := toString (dig "limits" "memory" "" (.Values.redis.resources | default dict)) -}}
{{- if .Values.redis.maxmemory -}}
{{- .Values.redis.maxmemory -}}
{{- else if $limit -}}
{{- if not (regexMatch "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$" $limit) -}}
{{- fail (printf "redis.resources.limits.memory %q is not a quantity the chart reads (such as 512Mi or 2Gi): write it so, or set redis.maxmemory (such as 1536mb)" $limit) -}}
{{- end -}}
{{- $number := regexReplaceAll "[A-Za-z]+$" $limit "" -}}
{{- $unit := regexReplaceAll "^[0-9.]+" $limit "" -}}
{{- $scale := get (dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000) $unit -}}
{{- printf "%d" (int64 (floor (divf (mulf (float64 $number) $scale 3) 4))) -}}
{{- end -}}
{{- end -}}

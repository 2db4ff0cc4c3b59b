{{/* The chart's name, at most 63 characters (a label value). */}}
{{- define "eksup.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The name of every object: the release name when it already says what this is. */}}
{{- define "eksup.fullname" -}}
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

{{- define "eksup.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "eksup.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: eks-upgrade-operator
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selects the manager's pods; never changes for a release (a Deployment's selector is immutable). */}}
{{- define "eksup.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eksup.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "eksup.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eksup.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing ServiceAccount to use when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Lease name is fixed in the operator (src/main.ts LEASE_NAME); it is per namespace. */}}
{{- define "eksup.leaseName" -}}
eks-upgrade-operator
{{- end }}

{{- define "eksup.stopSwitchName" -}}
{{- default (printf "%s-stop" (include "eksup.fullname" .)) .Values.stopSwitch.configMapName }}
{{- end }}

{{- define "eksup.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Namespaces where the operator may read the Secrets that ClusterUpgrades name. */}}
{{- define "eksup.secretNamespaces" -}}
{{- $namespaces := list .Release.Namespace }}
{{- if .Values.watchNamespace }}{{ $namespaces = append $namespaces .Values.watchNamespace }}{{ end }}
{{- range .Values.secretReaderNamespaces }}{{ $namespaces = append $namespaces . }}{{ end }}
{{- $namespaces | uniq | toJson }}
{{- end }}

{{/* Settings that cannot work together fail the render with the value to change. */}}
{{- define "eksup.validate" -}}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "leaderElection.enabled is false with replicaCount %d: replicas without a Lease would all change the cluster at once; set replicaCount to 1 or enable leader election" (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.image.digest (not (hasPrefix "sha256:" .Values.image.digest)) }}
{{- fail (printf "image.digest %q must start with sha256:" .Values.image.digest) }}
{{- end }}
{{- if not (has .Values.logLevel (list "error" "warn" "info" "http" "verbose" "debug" "silly")) }}
{{- fail (printf "logLevel %q is not one of error, warn, info, http, verbose, debug, silly" .Values.logLevel) }}
{{- end }}
{{- end }}

{{/*
Names are fixed (remap-operator, remap-csi-controller, remap-csi-node): the CSI driver
csi.remap.dev and the operator's ClusterRole are cluster-wide, so one installation per
cluster, and the operator's RBAC keeps the names of operator/rbac.yaml.
*/}}

{{- define "remap.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- define "remap.image.operator" -}}
{{ .Values.images.operator }}:{{ include "remap.tag" . }}
{{- end -}}

{{- define "remap.image.remap" -}}
{{ .Values.images.remap }}:{{ include "remap.tag" . }}
{{- end -}}

{{- define "remap.image.sidecars" -}}
{{ .Values.images.sidecars }}:{{ include "remap.tag" . }}
{{- end -}}

{{- define "remap.labels" -}}
app.kubernetes.io/name: remap
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: remap
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component: (list . "component"). */}}
{{- define "remap.selectorLabels" -}}
app.kubernetes.io/name: remap
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "remap.s3SecretName" -}}
{{- .Values.store.s3.existingSecret | default "remap-s3-credentials" -}}
{{- end -}}

{{/* Whether containers get AWS credentials from a Secret. */}}
{{- define "remap.s3Credentials" -}}
{{- if and (eq .Values.store.type "s3") (or .Values.store.s3.existingSecret .Values.store.s3.accessKeyId) -}}
true
{{- end -}}
{{- end -}}

{{/*
The store URI every component gets (--store, REMAP_STORE): file://PATH, or
s3://BUCKET/PREFIX?endpoint=URL&region=R&pathStyle=B. Checks what the schema cannot say in
one sentence. Credentials never appear here.
*/}}
{{- define "remap.storeUri" -}}
{{- $s := .Values.store -}}
{{- if eq $s.type "local" -}}
file://{{ $s.local.path }}
{{- else if eq $s.type "s3" -}}
{{- if not $s.s3.bucket -}}
{{- fail "store.s3.bucket is required when store.type is s3" -}}
{{- end -}}
{{- if not (or $s.s3.endpoint $s.s3.region) -}}
{{- fail "store.type s3 needs store.s3.endpoint (an S3-compatible server) or store.s3.region (AWS)" -}}
{{- end -}}
{{- if and $s.s3.existingSecret (or $s.s3.accessKeyId $s.s3.secretAccessKey) -}}
{{- fail "store.s3.existingSecret and store.s3.accessKeyId/secretAccessKey are exclusive: give one" -}}
{{- end -}}
{{- if and (not $s.s3.existingSecret) (or $s.s3.accessKeyId $s.s3.secretAccessKey) (not (and $s.s3.accessKeyId $s.s3.secretAccessKey)) -}}
{{- fail "store.s3.accessKeyId and store.s3.secretAccessKey go together: give both" -}}
{{- end -}}
{{- $query := list -}}
{{- with $s.s3.endpoint -}}{{- $query = append $query (printf "endpoint=%s" .) -}}{{- end -}}
{{- with $s.s3.region -}}{{- $query = append $query (printf "region=%s" .) -}}{{- end -}}
{{- if not (kindIs "invalid" $s.s3.pathStyle) -}}{{- $query = append $query (printf "pathStyle=%t" $s.s3.pathStyle) -}}{{- end -}}
s3://{{ $s.s3.bucket }}/{{ trimAll "/" $s.s3.prefix }}{{ if $query }}?{{ join "&" $query }}{{ end }}
{{- else -}}
{{- fail (printf "store.type must be local or s3, not %q" $s.type) -}}
{{- end -}}
{{- end -}}

{{/* AWS credentials for a container, from the Secret only (never a ConfigMap or an argument). */}}
{{- define "remap.s3Env" -}}
{{- if include "remap.s3Credentials" . }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "remap.s3SecretName" . }}
      key: {{ .Values.store.s3.secretKeys.accessKeyId }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "remap.s3SecretName" . }}
      key: {{ .Values.store.s3.secretKeys.secretAccessKey }}
{{- end }}
{{- end -}}

{{/*
Who the operator and the CSI controller run as. A local store is a hostPath directory that
the kubelet creates owned by root (mode 0755) and that the node plugin (privileged, root)
writes too, so they run as uid 0 there, with every capability dropped: root owns the files,
so no capability is needed to write them. Against S3 nothing on the host is written, so
they run as the image's non-root user 65532.
*/}}
{{- define "remap.podSecurityContext" -}}
{{- if eq .Values.store.type "local" }}
runAsUser: 0
runAsGroup: 0
runAsNonRoot: false
{{- else }}
runAsUser: 65532
runAsGroup: 65532
runAsNonRoot: true
fsGroup: 65532
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "remap.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The store directory of a local store, as a volume and as a mount at the same path. */}}
{{- define "remap.storeVolume" -}}
{{- if eq .Values.store.type "local" }}
- name: store
  hostPath:
    path: {{ .Values.store.local.path }}
    type: DirectoryOrCreate
{{- end }}
{{- end -}}

{{- define "remap.storeMount" -}}
{{- if eq .Values.store.type "local" }}
- name: store
  mountPath: {{ .Values.store.local.path }}
{{- end }}
{{- end -}}

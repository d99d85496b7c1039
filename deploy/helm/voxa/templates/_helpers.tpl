{{- define "voxa.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "voxa.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "voxa.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "voxa.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end -}}

{{- define "voxa.secretName" -}}
{{- required "existingSecret: name the Secret holding VOXA_SECRET_KEY, VOXA_OPERATOR_TOKEN, VOXA_DATABASE_URL, VOXA_REDIS_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET" .Values.existingSecret -}}
{{- end -}}

{{/* Environment every voxa container gets: settings, then secrets. */}}
{{- define "voxa.envFrom" -}}
- configMapRef:
    name: {{ include "voxa.fullname" . }}
- secretRef:
    name: {{ include "voxa.secretName" . }}
{{- end -}}

{{/* The data dir on an emptyDir: the root filesystem is read-only. */}}
{{- define "voxa.dataVolume" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "voxa.dataMounts" -}}
- name: data
  mountPath: /var/lib/voxa
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* The selector every object of one database uses. */}}
{{- define "db.selector" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The labels of the set and its pods. */}}
{{- define "db.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: cdk8s-stateful
app.kubernetes.io/name: postgresql
{{- end -}}

{{/* Every member's DNS name, in ordinal order, space-separated. */}}
{{- define "db.peers" -}}
{{- $peers := list -}}
{{- range $i := until (int .Values.replicas) -}}
{{- $peers = append $peers (printf "%s-%d.%s-headless.%s.svc.%s" $.Release.Name $i $.Release.Name $.Release.Namespace $.Values.clusterDomain) -}}
{{- end -}}
{{- join " " $peers -}}
{{- end -}}

{{/* Requests and limits of both containers. */}}
{{- define "db.resources" -}}
limits:
  cpu: "1"
  ephemeral-storage: 1Gi
  memory: 1Gi
requests:
  cpu: 250m
  ephemeral-storage: 64Mi
  memory: 512Mi
{{- end -}}

{{/* The restricted container security context. */}}
{{- define "db.containerSecurity" -}}
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
readOnlyRootFilesystem: true
runAsGroup: 999
runAsNonRoot: true
runAsUser: 999
{{- end -}}

{{/* The ports list of the Services. */}}
{{- define "db.servicePorts" -}}
- name: postgresql
  port: {{ .Values.port }}
  protocol: TCP
  targetPort: {{ .Values.port }}
{{- end -}}

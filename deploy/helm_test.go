package deploy

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/steward-oss/steward/config"
)

// render is `helm template prod deploy/helm/steward -n nhi --values …`
// through Helm's own loader and engine.
func render(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load("helm/steward")
	if err != nil {
		t.Fatal(err)
	}
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: "prod", Namespace: "nhi", IsInstall: true}, common.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Render(ch, rv)
}

// decode decodes every rendered manifest as a typed Kubernetes object
// through client-go's scheme: an unknown kind or field type fails.
func decode(t *testing.T, files map[string]string) map[string]runtime.Object {
	t.Helper()
	objs := map[string]runtime.Object{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") || strings.TrimSpace(files[n]) == "" {
			continue
		}
		for _, doc := range strings.Split(files[n], "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Fatalf("%s: %v\n%s", n, err, doc)
			}
			// Strict: every field of the manifest is a field of the type.
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s: %s has a field its type does not: %v", n, gvk.Kind, err)
			}
			objs[gvk.Kind] = obj
		}
	}
	return objs
}

func TestHelmChart(t *testing.T) {
	tests := []struct {
		name     string
		vals     map[string]any
		postgres bool
		pvc      bool
	}{
		{"bolt on a PVC", map[string]any{"apiKeys": []any{"key-one", "key-two"}}, false, true},
		{"postgres, two replicas", map[string]any{"apiKeys": []any{"key-one"}, "replicaCount": 2,
			"postgres": map[string]any{"dsn": "postgres://steward:pw@db.nhi.svc:5432/steward"}, "persistence": map[string]any{"enabled": false}}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := render(t, tt.vals)
			if err != nil {
				t.Fatal(err)
			}
			objs := decode(t, files)
			dep, _ := objs["Deployment"].(*appsv1.Deployment)
			svc, _ := objs["Service"].(*corev1.Service)
			sec, _ := objs["Secret"].(*corev1.Secret)
			cm, _ := objs["ConfigMap"].(*corev1.ConfigMap)
			pvc, hasPVC := objs["PersistentVolumeClaim"].(*corev1.PersistentVolumeClaim)
			if dep == nil || svc == nil || sec == nil || cm == nil {
				t.Fatalf("rendered kinds %v", keys(objs))
			}
			if hasPVC != tt.pvc {
				t.Fatalf("PVC rendered %v, want %v", hasPVC, tt.pvc)
			}
			pod := dep.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers", len(pod.Containers))
			}
			c := pod.Containers[0]
			psc, csc := pod.SecurityContext, c.SecurityContext
			for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "http" {
					t.Fatalf("probe %+v is not GET /healthz on the http port", p)
				}
			}
			checks := []struct {
				name string
				ok   bool
			}{
				{"runs as non-root", psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot && psc.RunAsUser != nil && *psc.RunAsUser != 0},
				{"read-only root filesystem", csc != nil && csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem},
				{"no privilege escalation", csc != nil && csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation},
				{"drops all capabilities", csc != nil && csc.Capabilities != nil && len(csc.Capabilities.Drop) == 1 && csc.Capabilities.Drop[0] == "ALL"},
				{"http port named", len(c.Ports) == 1 && c.Ports[0].Name == "http" && c.Ports[0].ContainerPort == 8080},
				{"service targets it", svc.Spec.Ports[0].TargetPort.String() == "http" && selects(svc.Spec.Selector, dep.Spec.Template.Labels)},
				{"deployment selects its pods", selects(dep.Spec.Selector.MatchLabels, dep.Spec.Template.Labels)},
				{"replicas", *dep.Spec.Replicas == int32(map[bool]int{true: 2, false: 1}[tt.postgres])},
				{"serves the mounted config", len(c.Args) > 2 && c.Args[0] == "serve" && c.Args[1] == "--config" && mounted(c, c.Args[2], "config")},
				{"writable data and tmp", mounted(c, "/var/lib/steward/x", "data") && mounted(c, "/tmp/x", "tmp") && c.WorkingDir == "/var/lib/steward"},
			}
			for _, ch := range checks {
				if !ch.ok {
					t.Errorf("%s: not so", ch.name)
				}
			}
			// Keys (and the DSN) come from the chart's Secret, never from
			// a plain env value.
			env := map[string]corev1.EnvVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			fromSecret := func(name string) bool {
				ref := env[name].ValueFrom
				return ref != nil && ref.SecretKeyRef != nil && ref.SecretKeyRef.Name == sec.Name && sec.StringData[ref.SecretKeyRef.Key] != ""
			}
			if !fromSecret("STEWARD_API_KEYS") || sec.StringData["STEWARD_API_KEYS"] != strings.Join(toStrings(tt.vals["apiKeys"]), ",") {
				t.Errorf("STEWARD_API_KEYS not from the Secret: %+v", env["STEWARD_API_KEYS"])
			}
			if tt.postgres {
				if !fromSecret("STEWARD_GRAPH") || !strings.HasPrefix(sec.StringData["STEWARD_GRAPH"], "postgres://") {
					t.Errorf("STEWARD_GRAPH not the DSN from the Secret: %+v", env["STEWARD_GRAPH"])
				}
			} else {
				var claim string
				for _, v := range pod.Volumes {
					if v.Name == "data" && v.PersistentVolumeClaim != nil {
						claim = v.PersistentVolumeClaim.ClaimName
					}
				}
				if claim != pvc.Name || !strings.HasPrefix(env["STEWARD_GRAPH"].Value, "/var/lib/steward/") || dep.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
					t.Errorf("bolt graph not on the PVC (claim %q, graph %q, strategy %s)", claim, env["STEWARD_GRAPH"].Value, dep.Spec.Strategy.Type)
				}
			}
			// The ConfigMap holds a valid steward.yaml.
			f := filepath.Join(t.TempDir(), "steward.yaml")
			os.WriteFile(f, []byte(cm.Data["steward.yaml"]), 0o600)
			if _, err := config.Load(f, func(k string) string { return map[string]string{"STEWARD_API_KEYS": "k"}[k] }); err != nil {
				t.Errorf("configmap steward.yaml: %v", err)
			}
		})
	}

	bad := []struct {
		name string
		vals map[string]any
		want string
	}{
		{"no API key", map[string]any{}, "apiKeys"},
		{"replicas on a bolt file", map[string]any{"apiKeys": []any{"k"}, "replicaCount": 3}, "shared graph store"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := render(t, tt.vals); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func keys(m map[string]runtime.Object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// mounted reports whether path lies under a mount of the named volume.
func mounted(c corev1.Container, path, volume string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == volume && strings.HasPrefix(path, m.MountPath+"/") {
			return true
		}
	}
	return false
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

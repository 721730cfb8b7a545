package k8s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/steward-oss/steward/connectors/input"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// inventory holds the RBAC objects of one cluster, as k8s.io/api types.
type inventory struct {
	namespaces          []corev1.Namespace
	serviceAccounts     []corev1.ServiceAccount
	tokenSecrets        []corev1.Secret // only type kubernetes.io/service-account-token; data is never read
	roles               []rbacv1.Role
	clusterRoles        []rbacv1.ClusterRole
	roleBindings        []rbacv1.RoleBinding
	clusterRoleBindings []rbacv1.ClusterRoleBinding
}

// typeMeta is the part of every object and list that says what it is.
type typeMeta struct {
	Kind       string            `json:"kind"`
	APIVersion string            `json:"apiVersion"`
	Items      []json.RawMessage `json:"items"`
}

// readDir loads every .json, .yaml and .yml file directly in dir.
func readDir(dir string, log *slog.Logger) (*inventory, error) {
	files, err := input.Dir(dir, input.Ext(".json", ".yaml", ".yml"))
	if err != nil {
		return nil, fmt.Errorf("k8s: %w", err)
	}
	in := &inventory{}
	for _, f := range files {
		if err := in.readFile(f, log); err != nil {
			return nil, err
		}
	}
	return in, nil
}

var yamlDocSep = regexp.MustCompile(`(?m)^---\s*$`)

func (in *inventory) readFile(path string, log *slog.Logger) error {
	format := input.YAML
	if strings.EqualFold(filepath.Ext(path), ".json") {
		format = input.JSON
	}
	data, err := input.ReadFile(path, format)
	if err != nil {
		return fmt.Errorf("k8s: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return in.addDocument(path, "", data, log)
	}
	// kubectl -o yaml prints one document; several joined by --- are
	// accepted too. Each is converted to JSON and decoded like JSON, so
	// the typed decoding is the same as for -o json and the live path.
	for i, doc := range yamlDocSep.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return fmt.Errorf("k8s: %s: document %d: %w", path, i, err)
		}
		where := ""
		if i > 0 {
			where = fmt.Sprintf("document %d", i)
		}
		if err := in.addDocument(path, where, js, log); err != nil {
			return err
		}
	}
	return nil
}

// addDocument decodes one object or List. where prefixes the JSON path in
// errors ("document 2").
func (in *inventory) addDocument(path, where string, data []byte, log *slog.Logger) error {
	var tm typeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return jsonError(path, where, err)
	}
	if tm.Kind == "" {
		return fmt.Errorf("k8s: %s: %s: not a Kubernetes object or List", path, join(where, "kind"))
	}
	if tm.Kind != "List" && !strings.HasSuffix(tm.Kind, "List") {
		return in.addObject(path, where, tm.Kind, data, log)
	}
	itemKind := strings.TrimSuffix(tm.Kind, "List")
	for i, raw := range tm.Items {
		at := join(where, fmt.Sprintf("items[%d]", i))
		var item typeMeta
		if err := json.Unmarshal(raw, &item); err != nil {
			return jsonError(path, at, err)
		}
		kind := item.Kind
		if kind == "" {
			kind = itemKind // typed lists (RoleList) leave items' kind empty
		}
		if kind == "" {
			return fmt.Errorf("k8s: %s: %s: empty", path, join(at, "kind"))
		}
		if err := in.addObject(path, at, kind, raw, log); err != nil {
			return err
		}
	}
	return nil
}

func (in *inventory) addObject(path, where, kind string, data []byte, log *slog.Logger) error {
	var err error
	var name string
	switch kind {
	case "Namespace":
		name, err = appendObject(&in.namespaces, path, where, data)
	case "ServiceAccount":
		name, err = appendObject(&in.serviceAccounts, path, where, data)
	case "Secret":
		var o corev1.Secret
		o, err = decodeObject[corev1.Secret](path, where, data)
		name = o.Name
		if o.Type == corev1.SecretTypeServiceAccountToken {
			in.tokenSecrets = append(in.tokenSecrets, tokenMetadata(o))
		}
	case "Role":
		name, err = appendObject(&in.roles, path, where, data)
	case "ClusterRole":
		name, err = appendObject(&in.clusterRoles, path, where, data)
	case "RoleBinding":
		name, err = appendObject(&in.roleBindings, path, where, data)
	case "ClusterRoleBinding":
		name, err = appendObject(&in.clusterRoleBindings, path, where, data)
	default:
		log.Debug("k8s: ignoring object kind", "file", path, "at", where, "kind", kind)
		return nil
	}
	if err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("k8s: %s: %s: empty", path, join(where, "metadata.name"))
	}
	return nil
}

// named is a Kubernetes object type whose pointer carries metadata.name.
type named[T any] interface {
	*T
	GetName() string
}

// appendObject decodes data as one T, appends it to list and returns its
// metadata.name.
func appendObject[T any, P named[T]](list *[]T, path, where string, data []byte) (string, error) {
	o, err := decodeObject[T](path, where, data)
	if err != nil {
		return "", err
	}
	*list = append(*list, o)
	return P(&o).GetName(), nil
}

// decodeObject decodes data as one T, naming the place in errors.
func decodeObject[T any](path, where string, data []byte) (T, error) {
	var o T
	if err := json.Unmarshal(data, &o); err != nil {
		return o, jsonError(path, where, err)
	}
	return o, nil
}

func join(where, field string) string {
	if where == "" {
		return field
	}
	return where + "." + field
}

// jsonError names the file and the place in it where decoding failed.
func jsonError(path, where string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if where != "" {
			return fmt.Errorf("k8s: %s: %s: offset %d: %w", path, where, se.Offset, err)
		}
		return fmt.Errorf("k8s: %s: offset %d: %w", path, se.Offset, err)
	case errors.As(err, &te):
		return fmt.Errorf("k8s: %s: field %s (offset %d): %w", path, join(where, te.Field), te.Offset, err)
	}
	if where != "" {
		return fmt.Errorf("k8s: %s: %s: %w", path, where, err)
	}
	return fmt.Errorf("k8s: %s: %w", path, err)
}

// tokenMetadata keeps the identifying metadata of a token Secret only: the
// token (and any last-applied-configuration annotation echoing it) must
// never travel further than the decoder.
func tokenMetadata(s corev1.Secret) corev1.Secret {
	meta := metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, UID: s.UID, CreationTimestamp: s.CreationTimestamp,
		Annotations: map[string]string{}}
	for _, k := range []string{corev1.ServiceAccountNameKey, corev1.ServiceAccountUIDKey} {
		if v, ok := s.Annotations[k]; ok {
			meta.Annotations[k] = v
		}
	}
	return corev1.Secret{ObjectMeta: meta, Type: s.Type}
}

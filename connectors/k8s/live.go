package k8s

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// pageSize bounds each list call; the continue token pages through the rest.
const pageSize = 500

// restConfig builds the client configuration from the kubeconfig file (and
// context) or the pod's in-cluster credentials, and names the cluster.
func (r *Reader) restConfig() (*rest.Config, string, error) {
	if r.inCluster {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, "", fmt.Errorf("k8s: in-cluster config: %w", err)
		}
		return cfg, "", nil
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: r.kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: r.context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("k8s: kubeconfig %s: %w", r.kubeconfig, err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("k8s: kubeconfig %s: %w", r.kubeconfig, err)
	}
	name := ""
	current := r.context
	if current == "" {
		current = raw.CurrentContext
	}
	if c, ok := raw.Contexts[current]; ok {
		name = c.Cluster
	}
	return cfg, name, nil
}

// readLive lists the RBAC objects, service accounts, namespaces and
// service-account token secrets (by field selector, so no other secret is
// fetched) through client-go.
func (r *Reader) readLive(ctx context.Context) (*inventory, string, error) {
	cfg, name, err := r.restConfig()
	if err != nil {
		return nil, "", err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("k8s: client: %w", err)
	}
	in := &inventory{}
	err = listAll(ctx, "namespaces", &in.namespaces, cs.CoreV1().Namespaces().List,
		func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items })
	if err == nil {
		err = listAll(ctx, "serviceaccounts", &in.serviceAccounts, cs.CoreV1().ServiceAccounts("").List,
			func(l *corev1.ServiceAccountList) []corev1.ServiceAccount { return l.Items })
	}
	if err == nil {
		err = pages(ctx, "secrets", func(o metav1.ListOptions) (string, error) {
			l, err := cs.CoreV1().Secrets("").List(ctx, o)
			if err != nil {
				return "", err
			}
			for _, s := range l.Items {
				if s.Type != corev1.SecretTypeServiceAccountToken {
					continue
				}
				in.tokenSecrets = append(in.tokenSecrets, tokenMetadata(s))
			}
			return l.Continue, nil
		}, "type="+string(corev1.SecretTypeServiceAccountToken))
	}
	if err == nil {
		err = listAll(ctx, "roles", &in.roles, cs.RbacV1().Roles("").List,
			func(l *rbacv1.RoleList) []rbacv1.Role { return l.Items })
	}
	if err == nil {
		err = listAll(ctx, "clusterroles", &in.clusterRoles, cs.RbacV1().ClusterRoles().List,
			func(l *rbacv1.ClusterRoleList) []rbacv1.ClusterRole { return l.Items })
	}
	if err == nil {
		err = listAll(ctx, "rolebindings", &in.roleBindings, cs.RbacV1().RoleBindings("").List,
			func(l *rbacv1.RoleBindingList) []rbacv1.RoleBinding { return l.Items })
	}
	if err == nil {
		err = listAll(ctx, "clusterrolebindings", &in.clusterRoleBindings, cs.RbacV1().ClusterRoleBindings().List,
			func(l *rbacv1.ClusterRoleBindingList) []rbacv1.ClusterRoleBinding { return l.Items })
	}
	if err != nil {
		return nil, "", err
	}
	return in, name, nil
}

// listAll pages through list, appending the items of every page to dst.
func listAll[T any, L metav1.ListInterface](ctx context.Context, what string, dst *[]T,
	list func(context.Context, metav1.ListOptions) (L, error), items func(L) []T) error {
	return pages(ctx, what, func(o metav1.ListOptions) (string, error) {
		l, err := list(ctx, o)
		if err != nil {
			return "", err
		}
		*dst = append(*dst, items(l)...)
		return l.GetContinue(), nil
	}, "")
}

// pages calls list until the server returns no continue token.
func pages(ctx context.Context, what string, list func(metav1.ListOptions) (string, error), fieldSelector string) error {
	opts := metav1.ListOptions{Limit: pageSize, FieldSelector: fieldSelector}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("k8s: list %s: %w", what, err)
		}
		next, err := list(opts)
		if err != nil {
			return fmt.Errorf("k8s: list %s: %w", what, err)
		}
		if next == "" {
			return nil
		}
		opts.Continue = next
	}
}

package k8s

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
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
	err = pages(ctx, "namespaces", func(o metav1.ListOptions) (string, error) {
		l, err := cs.CoreV1().Namespaces().List(ctx, o)
		if err != nil {
			return "", err
		}
		in.namespaces = append(in.namespaces, l.Items...)
		return l.Continue, nil
	}, "")
	if err == nil {
		err = pages(ctx, "serviceaccounts", func(o metav1.ListOptions) (string, error) {
			l, err := cs.CoreV1().ServiceAccounts("").List(ctx, o)
			if err != nil {
				return "", err
			}
			in.serviceAccounts = append(in.serviceAccounts, l.Items...)
			return l.Continue, nil
		}, "")
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
		err = pages(ctx, "roles", func(o metav1.ListOptions) (string, error) {
			l, err := cs.RbacV1().Roles("").List(ctx, o)
			if err != nil {
				return "", err
			}
			in.roles = append(in.roles, l.Items...)
			return l.Continue, nil
		}, "")
	}
	if err == nil {
		err = pages(ctx, "clusterroles", func(o metav1.ListOptions) (string, error) {
			l, err := cs.RbacV1().ClusterRoles().List(ctx, o)
			if err != nil {
				return "", err
			}
			in.clusterRoles = append(in.clusterRoles, l.Items...)
			return l.Continue, nil
		}, "")
	}
	if err == nil {
		err = pages(ctx, "rolebindings", func(o metav1.ListOptions) (string, error) {
			l, err := cs.RbacV1().RoleBindings("").List(ctx, o)
			if err != nil {
				return "", err
			}
			in.roleBindings = append(in.roleBindings, l.Items...)
			return l.Continue, nil
		}, "")
	}
	if err == nil {
		err = pages(ctx, "clusterrolebindings", func(o metav1.ListOptions) (string, error) {
			l, err := cs.RbacV1().ClusterRoleBindings().List(ctx, o)
			if err != nil {
				return "", err
			}
			in.clusterRoleBindings = append(in.clusterRoleBindings, l.Items...)
			return l.Continue, nil
		}, "")
	}
	if err != nil {
		return nil, "", err
	}
	return in, name, nil
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

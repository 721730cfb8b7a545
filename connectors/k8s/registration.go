package k8s

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/steward-oss/steward/connectors"
)

// words are how people name Kubernetes in questions.
var words = []string{"kubernetes", "k8s", "kube", "cluster"}

// Actuator option names (keys of actuators[].options in steward.yaml).
const (
	optKubeconfig = "kubeconfig"
	optContext    = "context"
	optInCluster  = "in-cluster"
)

// actuatorRegistration builds the RBAC actuator for k8s or k8s:<cluster>.
var actuatorRegistration = &connectors.ActuatorRegistration{
	Options: []string{optKubeconfig, optContext, optInCluster},
	New: func(source string, o connectors.Options, _ connectors.ActuatorEnv) (connectors.Actuator, error) {
		kc := ActuatorConfig{Kubeconfig: o[optKubeconfig], Context: o[optContext]}
		if v := o[optInCluster]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("options.%s: %w", optInCluster, err)
			}
			kc.InCluster = b
		}
		if cluster, ok := strings.CutPrefix(source, "k8s:"); ok {
			kc.Cluster = cluster
		} else if source != "k8s" {
			return nil, fmt.Errorf("source: %q is not k8s or k8s:<cluster>", source)
		}
		return NewActuator(kc)
	},
}

// Package kubeplugin holds what the kubectl plugin commands of monkonomy (leaderboard,
// gibb, join) share: the kubeconfig flags kubectl users expect, the client, and the pure
// parts (ranking, rendering, manifests) that tests cover without a cluster.
package kubeplugin

import (
	"fmt"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

// KubeFlags are kubectl's connection flags (--kubeconfig, --context, -n/--namespace,
// --server, --token, ...), read the way kubectl reads them, KUBECONFIG included.
type KubeFlags struct {
	rules     *clientcmd.ClientConfigLoadingRules
	overrides *clientcmd.ConfigOverrides
}

// AddKubeFlags registers the connection flags on fs.
func AddKubeFlags(fs *pflag.FlagSet) *KubeFlags {
	k := &KubeFlags{rules: clientcmd.NewDefaultClientConfigLoadingRules(), overrides: &clientcmd.ConfigOverrides{}}
	fs.StringVar(&k.rules.ExplicitPath, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	clientcmd.BindOverrideFlags(k.overrides, fs, clientcmd.RecommendedConfigOverrideFlags(""))
	return k
}

// Cluster is a connection to the API server.
type Cluster struct {
	Config    *rest.Config
	Client    client.WithWatch
	Namespace string
}

// Connect reads the kubeconfig and the flags, and returns a client that knows Markets and
// Traders and the namespace to work in.
func (k *KubeFlags) Connect() (*Cluster, error) {
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(k.rules, k.overrides)
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("read the namespace from the kubeconfig: %w", err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("read the kubeconfig (set KUBECONFIG or --kubeconfig to reach your cluster): %w", err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, fmt.Errorf("connect to the API server at %s: %w", cfg.Host, err)
	}
	return &Cluster{Config: cfg, Client: c, Namespace: ns}, nil
}

// Scheme knows the core Kubernetes types and Markets and Traders: the types of the
// kubectl plugin and of the manager.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

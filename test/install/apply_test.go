package install

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
)

var crdsOnce sync.Once

// ensureCRDs applies config/crd/bases to the shared API server and waits until Markets
// and Traders are served.
func ensureCRDs(t *testing.T) *apiServer {
	t.Helper()
	a := startAPIServer(t)
	crdsOnce.Do(func() {
		mustRun(t, "", kubectlPath(t), "apply", "--server-side", "-f", "config/crd/bases")
		mustRun(t, "", kubectlPath(t), "wait", "--for=condition=Established", "--timeout=60s",
			"crd/markets.game.monkonomy.dev", "crd/traders.game.monkonomy.dev")
	})
	return a
}

// TestChartManifestsApplyToAPIServer applies what helm template renders for every setup
// to a real API server, which checks every object against its schema (the Market against
// the CRD's), as `helm install` would.
func TestChartManifestsApplyToAPIServer(t *testing.T) {
	ensureCRDs(t)
	for i, tc := range []struct {
		file       string
		namespaces []string
		flags      []string
	}{
		{"", []string{"apply-default"}, nil},
		{"values-external-redis.yaml", []string{"apply-external"}, nil},
		{"values-market-ingress.yaml", []string{"apply-market", "ingress-event"}, []string{marketAPI}},
		{"values-crds-off.yaml", []string{"apply-crds-off"}, nil},
		{"values-replicas-2.yaml", []string{"apply-replicas"}, nil},
		{"values-teams.yaml", []string{"apply-teams", "team-red", "team-blue"}, nil},
	} {
		name := tc.file
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			for _, ns := range tc.namespaces {
				createNamespace(t, ns)
			}
			flags := tc.flags
			if tc.file != "" {
				flags = append(flags, "-f", filepath.Join("test/install/testdata", tc.file))
			}
			release := "r" + string(rune('a'+i))
			manifest := render(t, release, tc.namespaces[0], flags...)
			out := mustRun(t, manifest, kubectlPath(t), "apply", "--server-side", "--field-manager=install-test", "-f", "-")
			for _, o := range objects(t, manifest) {
				if !strings.Contains(out, strings.ToLower(o.GetKind())) || !strings.Contains(out, o.GetName()) {
					t.Errorf("kubectl did not report %s %s as applied:\n%s", o.GetKind(), o.GetName(), out)
				}
			}
		})
	}
}

// TestHelmInstallOnAFreshClusterKeepsPasswordAndGame installs the chart with helm on a
// fresh API server, as an organiser does, then upgrades and uninstalls it.
func TestHelmInstallOnAFreshClusterKeepsPasswordAndGame(t *testing.T) {
	// A cluster of its own: the first install must find no CRDs, and Helm adopts no
	// objects that kubectl created.
	fresh, err := newAPIServerAt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fresh.env.Stop() }()
	helm := func(args ...string) string {
		t.Helper()
		return mustRun(t, "", helmPath(t), append(args, "--kubeconfig", fresh.kubeconfig)...)
	}
	kubectl := func(args ...string) result {
		t.Helper()
		return run(t, "", kubectlPath(t), append(args, "--kubeconfig", fresh.kubeconfig)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	notes := helm("install", "event", chartDir, "--namespace", "event", "--create-namespace",
		"--set", "market.create=true", "--set", "market.name=bananas")
	if !strings.Contains(notes, "ONE MORE STEP") || !strings.Contains(notes, "helm upgrade event") {
		t.Errorf("the first install's notes do not say how to create the Market:\n%s", notes)
	}
	for _, want := range []string{"kubectl monkonomy join", "kubectl monkonomy leaderboard", "port-forward svc/bananas-engine"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes do not mention %q:\n%s", want, notes)
		}
	}
	password := func() string {
		t.Helper()
		var s corev1.Secret
		if err := fresh.client.Get(ctx, client.ObjectKey{Namespace: "event", Name: "event-monkonomy-redis"}, &s); err != nil {
			t.Fatalf("read the Redis Secret: %v", err)
		}
		return string(s.Data["password"])
	}
	first := password()

	notes = helm("upgrade", "event", chartDir, "--namespace", "event", "--reuse-values")
	if strings.Contains(notes, "ONE MORE STEP") {
		t.Errorf("the upgrade still cannot create the Market:\n%s", notes)
	}
	var m v1alpha1.Market
	if err := fresh.client.Get(ctx, client.ObjectKey{Namespace: "event", Name: "bananas"}, &m); err != nil {
		t.Fatalf("the upgrade did not create the Market: %v", err)
	}
	if got := password(); got != first {
		t.Errorf("the upgrade changed the Redis admin password: the operator would be locked out of the markets")
	}

	helm("uninstall", "event", "--namespace", "event")
	for _, crd := range []string{"crd/markets.game.monkonomy.dev", "crd/traders.game.monkonomy.dev"} {
		if r := kubectl("get", crd); r.err != nil {
			t.Errorf("uninstall deleted %s:\n%s", crd, r)
		}
	}
	if err := fresh.client.Get(ctx, client.ObjectKey{Namespace: "event", Name: "bananas"}, &m); err != nil {
		t.Errorf("uninstall deleted the Market and its game: %v", err)
	}
	var d corev1.ServiceAccount
	if err := fresh.client.Get(ctx, client.ObjectKey{Namespace: "event", Name: "event-monkonomy-operator"}, &d); !apierrors.IsNotFound(err) {
		t.Errorf("uninstall left the operator's ServiceAccount: %v", err)
	}
}

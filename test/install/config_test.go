package install

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

func TestKustomizeDefaultInstallsOperatorWithItsServiceAccount(t *testing.T) {
	ensureCRDs(t)
	manifest := mustRun(t, "", kubectlPath(t), "kustomize", "config/default")
	objs := objects(t, manifest)
	dep := find(t, objs, "Deployment", "monkonomy-manager")
	if dep.GetNamespace() != "monkonomy-system" {
		t.Errorf("the operator runs in namespace %q, want monkonomy-system", dep.GetNamespace())
	}
	sa, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "spec", "serviceAccountName")
	find(t, objs, "ServiceAccount", sa)
	for _, b := range ofKind(objs, "ClusterRoleBinding") {
		if !strings.Contains(toString(b.Object["subjects"]), `"name":"`+sa+`"`) {
			t.Errorf("ClusterRoleBinding %s does not bind the operator's ServiceAccount %s", b.GetName(), sa)
		}
	}
	mustRun(t, manifest, kubectlPath(t), "apply", "--server-side", "--field-manager=install-test", "-f", "-")
}

func TestSamplesAreAcceptedByTheCRDs(t *testing.T) {
	a := ensureCRDs(t)
	createNamespace(t, "samples")
	mustRun(t, "", kubectlPath(t), "apply", "--server-side", "-n", "samples", "-k", "config/samples")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var traders v1alpha1.TraderList
	if err := a.client.List(ctx, &traders, client.InNamespace("samples")); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, tr := range traders.Items {
		switch {
		case tr.Spec.Image != nil:
			kinds["image"] = true
		case tr.Spec.Strategy != nil && tr.Spec.Strategy.Builtin != nil:
			kinds["builtin"] = true
		case tr.Spec.Strategy != nil && tr.Spec.Strategy.Script != nil:
			kinds["script"] = true
		}
		if tr.Spec.Market != "bananas" {
			t.Errorf("sample Trader %s plays in %q, not the sample Market", tr.Name, tr.Spec.Market)
		}
	}
	if len(kinds) != 3 {
		t.Errorf("the samples show %v, want a built-in strategy, a script and an image", kinds)
	}
	var m v1alpha1.Market
	if err := a.client.Get(ctx, client.ObjectKey{Namespace: "samples", Name: "bananas"}, &m); err != nil {
		t.Fatal(err)
	}
}

// The API server really checks the samples: a Trader with both a strategy and an image is
// refused with the CRD's own message.
func TestSampleTraderWithTwoRunnersIsRejected(t *testing.T) {
	ensureCRDs(t)
	createNamespace(t, "samples-broken")
	b, err := os.ReadFile(filepath.Join(repoRoot, "config/samples/game_v1alpha1_trader_builtin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "  strategy:\n", "  image:\n    name: ghcr.io/team/bot:1\n  strategy:\n", 1)
	r := run(t, broken, kubectlPath(t), "apply", "--server-side", "-n", "samples-broken", "-f", "-")
	if r.err == nil || !strings.Contains(r.stderr, "set exactly one of spec.image") {
		t.Fatalf("a Trader with both image and strategy was not refused with the CRD's message:\n%s", r)
	}
}

func TestSampleScriptLoads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "config/samples/game_v1alpha1_trader_script.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tr v1alpha1.Trader
	if err := yaml.UnmarshalStrict(b, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Spec.Strategy == nil || tr.Spec.Strategy.Script == nil {
		t.Fatal("the script sample has no script")
	}
	if _, err := strategy.LoadScript("sample.star", []byte(*tr.Spec.Strategy.Script), strategy.ScriptOptions{}); err != nil {
		t.Fatalf("the sample script does not load: %v", err)
	}
}

// The organiser's guide gives a large room's engine more memory with a kubectl patch: the
// API server takes it as written in the guide, and the Market then asks for that limit.
func TestOrganiserGuideEngineMemoryPatchApplies(t *testing.T) {
	var patch string
	for _, line := range strings.Split(organiserGuide(t), "\n") {
		if _, rest, ok := strings.Cut(line, `-p '{"spec":{"engine"`); ok {
			body, _, _ := strings.Cut(rest, "'")
			patch = `{"spec":{"engine"` + body
		}
	}
	if patch == "" {
		t.Fatal(`the organiser's guide has no kubectl patch of spec.engine ("-p '{"spec":{"engine"...")`)
	}
	a := ensureCRDs(t)
	createNamespace(t, "guide")
	mustRun(t, "", kubectlPath(t), "apply", "--server-side", "-n", "guide", "-f", "config/samples/game_v1alpha1_market.yaml")
	mustRun(t, "", kubectlPath(t), "-n", "guide", "patch", "market", "bananas", "--type", "merge", "-p", patch)
	var want v1alpha1.Market
	if err := json.Unmarshal([]byte(patch), &want); err != nil {
		t.Fatalf("the guide's patch %s is not a Market: %v", patch, err)
	}
	limit := want.Spec.Engine.Resources
	if limit == nil || limit.Limits.Memory().IsZero() {
		t.Fatalf("the guide's patch %s sets no memory limit for the engine", patch)
	}
	var m v1alpha1.Market
	if err := a.client.Get(context.Background(), client.ObjectKey{Namespace: "guide", Name: "bananas"}, &m); err != nil {
		t.Fatal(err)
	}
	if r := m.Spec.Engine.Resources; r == nil || !r.Limits.Memory().Equal(*limit.Limits.Memory()) {
		t.Errorf("after the guide's patch %s the engine's resources are %+v, want a memory limit of %s", patch, r, limit.Limits.Memory())
	}
}

// The organiser's guide gives the market a node of its own with a values file: the chart
// then places Redis and the engine there, and the API server takes the Market it renders.
func TestOrganiserGuideMarketNodeValuesPlaceRedisAndEngine(t *testing.T) {
	var values string
	for _, block := range strings.Split(organiserGuide(t), "```yaml\n")[1:] {
		if body, _, _ := strings.Cut(block, "```"); strings.HasPrefix(body, "# market-node.yaml") {
			values = body
		}
	}
	if values == "" {
		t.Fatal("the organiser's guide has no yaml block starting with # market-node.yaml")
	}
	file := filepath.Join(t.TempDir(), "market-node.yaml")
	if err := os.WriteFile(file, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := objects(t, render(t, "event", "event", "-f", file, "--set", "market.create=true", marketAPI))
	wantSelector := map[string]any{"monkonomy.dev/role": "market"}
	wantTolerations := []any{map[string]any{"key": "monkonomy.dev/role", "value": "market", "effect": "NoSchedule"}}
	placed := func(what string, obj map[string]any, path ...string) {
		t.Helper()
		sel, _, _ := unstructured.NestedMap(obj, append(path, "nodeSelector")...)
		tol, _, _ := unstructured.NestedSlice(obj, append(path, "tolerations")...)
		if !equality.Semantic.DeepEqual(sel, wantSelector) || !equality.Semantic.DeepEqual(tol, wantTolerations) {
			t.Errorf("%s: nodeSelector %v, tolerations %v; want %v and %v", what, sel, tol, wantSelector, wantTolerations)
		}
	}
	placed("Redis", find(t, objs, "StatefulSet", "event-monkonomy-redis").Object, "spec", "template", "spec")
	m := find(t, objs, "Market", "bananas")
	placed("the Market's engine", m.Object, "spec", "engine")

	a := ensureCRDs(t)
	createNamespace(t, "market-node")
	m.SetNamespace("market-node")
	manifest, err := yaml.Marshal(m.Object)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, string(manifest), kubectlPath(t), "apply", "--server-side", "-f", "-")
	var stored v1alpha1.Market
	if err := a.client.Get(context.Background(), client.ObjectKey{Namespace: "market-node", Name: "bananas"}, &stored); err != nil {
		t.Fatal(err)
	}
	e := stored.Spec.Engine
	if e.NodeSelector["monkonomy.dev/role"] != "market" || len(e.Tolerations) != 1 || e.Tolerations[0].Effect != "NoSchedule" {
		t.Errorf("the API server kept the engine's placement as nodeSelector %v, tolerations %+v", e.NodeSelector, e.Tolerations)
	}
}

// The organiser's guide gives Redis more memory and a larger volume for a longer game with
// --set values at install: the chart takes them, as the guide writes them.
func TestOrganiserGuideRedisSizeValuesRender(t *testing.T) {
	want := map[string]string{}
	var flags []string
	for _, line := range strings.Split(organiserGuide(t), "\n") {
		fields := strings.Fields(line)
		for i, f := range fields {
			if f == "--set" && i+1 < len(fields) && strings.HasPrefix(fields[i+1], "redis.") {
				path, value, _ := strings.Cut(fields[i+1], "=")
				want[path] = value
				flags = append(flags, "--set", fields[i+1])
			}
		}
	}
	memory, storage := want["redis.resources.limits.memory"], want["redis.persistence.size"]
	if memory == "" || storage == "" {
		t.Fatalf("the organiser's guide sets no Redis memory limit and volume size with --set: %v", want)
	}
	objs := objects(t, render(t, "event", "event", flags...))
	sts := find(t, objs, "StatefulSet", "event-monkonomy-redis")
	if got, _, _ := unstructured.NestedString(firstContainer(t, sts), "resources", "limits", "memory"); got != memory {
		t.Errorf("with the guide's values Redis's memory limit is %q, want %q", got, memory)
	}
	checkRedisMaxmemory(t, sts, redisConf(t, objs, "event-monkonomy-redis"))
	claims, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates")
	var size string
	if len(claims) == 1 {
		size, _, _ = unstructured.NestedString(claims[0].(map[string]any), "spec", "resources", "requests", "storage")
	}
	if size != storage {
		t.Errorf("with the guide's values Redis's volume is %q, want %q", size, storage)
	}
}

// organiserGuide is the text of docs/organiser-guide.md, whose commands the tests above
// run as an organiser would.
func organiserGuide(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "organiser-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

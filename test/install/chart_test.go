package install

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// marketAPI tells helm template that the cluster serves Markets, as an upgrade finds it.
const marketAPI = "--api-versions=game.monkonomy.dev/v1alpha1/Market"

func TestChartCRDsAreTheCRDsOfConfig(t *testing.T) {
	want, err := filepath.Glob(filepath.Join(repoRoot, "config/crd/bases/*.yaml"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: run `make manifests`")
	}
	have, _ := filepath.Glob(filepath.Join(repoRoot, chartDir, "files/crds/*.yaml"))
	if len(have) != len(want) {
		t.Fatalf("the chart has %d CRD files, config/crd/bases %d: run `make helm-sync`", len(have), len(want))
	}
	rendered := objects(t, render(t, "event", "event"))
	for _, path := range want {
		base := filepath.Base(path)
		src, _ := os.ReadFile(path)
		cp, err := os.ReadFile(filepath.Join(repoRoot, chartDir, "files/crds", base))
		if err != nil || !bytes.Equal(src, cp) {
			t.Fatalf("charts/monkonomy/files/crds/%s differs from config/crd/bases/%s: run `make helm-sync`", base, base)
		}
		crd := readYAML(t, filepath.Join("config/crd/bases", base))
		name, _, _ := unstructured.NestedString(crd, "metadata", "name")
		got := find(t, rendered, "CustomResourceDefinition", name)
		if !reflect.DeepEqual(got.Object["spec"], crd["spec"]) {
			t.Errorf("the chart renders CRD %s with a spec other than config/crd/bases/%s", name, base)
		}
		if got.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s lacks helm.sh/resource-policy: keep; an uninstall would delete every Market and Trader", name)
		}
	}
}

func TestChartOperatorHasTheRulesOfConfigRBAC(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "config/rbac/role.yaml"))
	if err != nil {
		t.Fatalf("config/rbac/role.yaml is missing: run `make manifests`")
	}
	cp, err := os.ReadFile(filepath.Join(repoRoot, chartDir, "files/rbac/role.yaml"))
	if err != nil || !bytes.Equal(src, cp) {
		t.Fatalf("charts/monkonomy/files/rbac/role.yaml differs from config/rbac/role.yaml: run `make helm-sync`")
	}
	role := readYAML(t, "config/rbac/role.yaml")
	got := find(t, objects(t, render(t, "event", "event")), "ClusterRole", "event-monkonomy-operator")
	if !reflect.DeepEqual(got.Object["rules"], role["rules"]) {
		t.Errorf("the operator's ClusterRole has other rules than config/rbac/role.yaml:\n got %v\nwant %v", got.Object["rules"], role["rules"])
	}
}

// valueFiles are the organisers' setups every chart test covers, besides the defaults.
var valueFiles = []string{
	"values-external-redis.yaml",
	"values-market-ingress.yaml",
	"values-crds-off.yaml",
	"values-replicas-2.yaml",
	"values-teams.yaml",
}

func TestChartLintsWithEveryValuesFile(t *testing.T) {
	mustRun(t, "", helmPath(t), "lint", "--strict", chartDir)
	for _, f := range valueFiles {
		mustRun(t, "", helmPath(t), "lint", "--strict", chartDir, "-f", filepath.Join("test/install/testdata", f))
	}
}

func TestChartByDefaultRunsOperatorAndPersistentRedis(t *testing.T) {
	objs := objects(t, render(t, "event", "event"))
	op := find(t, objs, "Deployment", "event-monkonomy-operator")
	args := containerArgs(t, op)
	if !slices.Contains(args, "--redis=event-monkonomy-redis.event.svc.cluster.local:6379") {
		t.Errorf("the operator does not use the chart's Redis: args %v", args)
	}
	if !slices.Contains(args, "--leader-elect=false") {
		t.Errorf("a single operator runs leader election: args %v", args)
	}
	if lookup(objs, "Role", "event-monkonomy-leader-election") != nil {
		t.Errorf("a single operator gets a leader-election Role it does not use")
	}
	find(t, objs, "Service", "event-monkonomy-operator-metrics")
	sts := find(t, objs, "StatefulSet", "event-monkonomy-redis")
	if tpl, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates"); len(tpl) != 1 {
		t.Errorf("Redis has no persistent volume: volumeClaimTemplates %v", tpl)
	}
	secret := find(t, objs, "Secret", "event-monkonomy-redis")
	conf := redisConf(t, objs, "event-monkonomy-redis")
	pw, _, _ := unstructured.NestedString(secret.Object, "data", "password")
	pwText, _ := base64.StdEncoding.DecodeString(pw)
	if len(pwText) < 32 || !strings.Contains(conf, "requirepass "+string(pwText)+"\n") ||
		!strings.Contains(conf, "appendonly yes") {
		t.Errorf("Redis does not require the generated password with append-only persistence:\n%s", conf)
	}
	checkRedisMaxmemory(t, sts, conf)
	noLimit := objects(t, render(t, "event", "event", "--set", "redis.resources.limits=null"))
	if conf := redisConf(t, noLimit, "event-monkonomy-redis"); strings.Contains(conf, "maxmemory") {
		t.Errorf("Redis without a memory limit has a maxmemory:\n%s", conf)
	}
	given := objects(t, render(t, "event", "event", "--set", "redis.maxmemory=100mb"))
	if conf := redisConf(t, given, "event-monkonomy-redis"); !strings.Contains(conf, "maxmemory 100mb\n") {
		t.Errorf("with redis.maxmemory=100mb, redis.conf has no maxmemory 100mb:\n%s", conf)
	}
	for _, kind := range []string{"Market", "Ingress", "RoleBinding"} {
		if o := lookup(objs, kind, ""); o != nil {
			t.Errorf("the defaults create %s %s", kind, o.GetName())
		}
	}
}

func TestChartWithTwoReplicasElectsALeader(t *testing.T) {
	objs := objects(t, render(t, "event", "event", "-f", "test/install/testdata/values-replicas-2.yaml"))
	op := find(t, objs, "Deployment", "event-monkonomy-operator")
	if r, _, _ := unstructured.NestedFieldNoCopy(op.Object, "spec", "replicas"); fmt.Sprint(r) != "2" {
		t.Errorf("replicas = %v, want 2", r)
	}
	if args := containerArgs(t, op); !slices.Contains(args, "--leader-elect=true") {
		t.Errorf("two operators without --leader-elect: args %v", args)
	}
	find(t, objs, "Role", "event-monkonomy-leader-election")
	find(t, objs, "RoleBinding", "event-monkonomy-leader-election")
}

func TestChartWithExternalRedisRunsNoRedis(t *testing.T) {
	objs := objects(t, render(t, "event", "event", "-f", "test/install/testdata/values-external-redis.yaml"))
	if o := lookup(objs, "StatefulSet", ""); o != nil {
		t.Errorf("an external Redis still gets StatefulSet %s", o.GetName())
	}
	op := find(t, objs, "Deployment", "event-monkonomy-operator")
	if args := containerArgs(t, op); !slices.Contains(args, "--redis=redis.databases.svc.cluster.local:6380") {
		t.Errorf("the operator does not use the external Redis: args %v", args)
	}
	env, _, _ := unstructured.NestedSlice(firstContainer(t, op), "env")
	found := false
	for _, e := range env {
		ref, _, _ := unstructured.NestedStringMap(e.(map[string]any), "valueFrom", "secretKeyRef")
		if e.(map[string]any)["name"] == "MONKONOMY_REDIS_PASSWORD" && ref["name"] == "event-redis" && ref["key"] == "admin-password" {
			found = true
		}
	}
	if !found {
		t.Errorf("the operator does not read the password from Secret event-redis, key admin-password: env %v", env)
	}
	np := find(t, objs, "NetworkPolicy", "event-monkonomy-traders")
	egress, _, _ := unstructured.NestedSlice(np.Object, "spec", "egress")
	if !strings.Contains(toString(egress), `"port":6380`) {
		t.Errorf("traders may not reach the external Redis's port 6380: egress %v", egress)
	}
}

func TestChartWithCRDsOffRendersNoCRD(t *testing.T) {
	objs := objects(t, render(t, "event", "event", "-f", "test/install/testdata/values-crds-off.yaml"))
	if o := lookup(objs, "CustomResourceDefinition", ""); o != nil {
		t.Errorf("crds.install=false still renders CRD %s", o.GetName())
	}
	sts := find(t, objs, "StatefulSet", "event-monkonomy-redis")
	if tpl, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates"); len(tpl) != 0 {
		t.Errorf("persistence disabled but Redis claims a volume")
	}
}

func TestChartCreatesTheMarketWithItsIngress(t *testing.T) {
	vals := "test/install/testdata/values-market-ingress.yaml"
	objs := objects(t, render(t, "event", "event", "-f", vals, marketAPI))
	m := find(t, objs, "Market", "bananas")
	if m.GetNamespace() != "ingress-event" {
		t.Errorf("Market namespace %q, want ingress-event", m.GetNamespace())
	}
	if tick, _, _ := unstructured.NestedString(m.Object, "spec", "tickInterval"); tick != "500ms" {
		t.Errorf("Market tickInterval %q, want the value's 500ms", tick)
	}
	if m.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
		t.Errorf("an uninstall would delete the Market and its game")
	}
	ing := find(t, objs, "Ingress", "bananas-dashboard")
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	backend := toString(rules)
	if !strings.Contains(backend, "bananas-engine") || !strings.Contains(backend, "bananas.example.org") {
		t.Errorf("the Ingress does not send bananas.example.org to the engine's Service: %s", backend)
	}
	// Before the CRDs are served (a first install), the Market waits for the upgrade.
	first := objects(t, render(t, "event", "event", "-f", vals))
	if o := lookup(first, "Market", ""); o != nil {
		t.Errorf("the Market is rendered although the cluster does not serve Markets yet")
	}
}

func TestChartGivesTeamsTradersAndNothingElse(t *testing.T) {
	objs := objects(t, render(t, "event", "event", "-f", "test/install/testdata/values-teams.yaml"))
	want := []any{
		map[string]any{"apiGroups": []any{"game.monkonomy.dev"}, "resources": []any{"traders"},
			"verbs": []any{"get", "list", "watch", "create", "update", "patch", "delete"}},
		map[string]any{"apiGroups": []any{"game.monkonomy.dev"}, "resources": []any{"markets"},
			"verbs": []any{"get", "list", "watch"}},
	}
	for _, ns := range []string{"team-red", "team-blue"} {
		var role, binding, policy *unstructured.Unstructured
		for _, o := range objs {
			if o.GetNamespace() != ns {
				continue
			}
			switch {
			case o.GetKind() == "Role" && o.GetName() == "event-monkonomy-team":
				role = o
			case o.GetKind() == "RoleBinding" && o.GetName() == "event-monkonomy-team":
				binding = o
			case o.GetKind() == "NetworkPolicy" && o.GetName() == "event-monkonomy-traders":
				policy = o
			}
		}
		if role == nil || binding == nil || policy == nil {
			t.Fatalf("namespace %s lacks the team Role, its RoleBinding or the traders' NetworkPolicy", ns)
		}
		if !reflect.DeepEqual(role.Object["rules"], want) {
			t.Errorf("team Role in %s allows %v, want only editing Traders and reading Markets", ns, role.Object["rules"])
		}
		subjects := toString(binding.Object["subjects"])
		if !strings.Contains(subjects, "workshop-teams") || !strings.Contains(subjects, "ana@example.org") {
			t.Errorf("team RoleBinding in %s binds %s", ns, subjects)
		}
		ingress, found, _ := unstructured.NestedSlice(policy.Object, "spec", "ingress")
		types, _, _ := unstructured.NestedStringSlice(policy.Object, "spec", "policyTypes")
		if !found || len(ingress) != 0 || !slices.Contains(types, "Ingress") || !slices.Contains(types, "Egress") {
			t.Errorf("trader pods in %s are reachable, or may reach more than Redis: %v", ns, policy.Object["spec"])
		}
	}
}

func TestChartSchemaRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"no operator", []string{"operator.replicas=0"}, "/operator/replicas"},
		{"unknown pull policy", []string{"image.pullPolicy=Sometimes"}, "/image/pullPolicy"},
		{"misspelt key", []string{"operator.replica=2"}, "replica"},
		{"market name with capitals", []string{"market.name=Big_Bananas"}, "/market/name"},
		{"tick interval not a duration", []string{"market.spec.tickInterval=soon"}, "/market/spec/tickInterval"},
		{"team subject of an unknown kind", []string{"teams.subjects[0].kind=Robot", "teams.subjects[0].name=r2"}, "/teams/subjects/0/kind"},
		{"external Redis without address", []string{"redis.external.enabled=true", "redis.external.passwordSecret.name=pw"},
			"redis.external.address is empty: set it to the host:port of your Redis"},
		{"external Redis without password", []string{"redis.external.enabled=true", "redis.external.address=redis:6379"},
			"redis.external.passwordSecret.name is empty"},
		{"ingress without market", []string{"market.ingress.enabled=true", "market.ingress.host=a.example.org"},
			"market.ingress.enabled is true but market.create is false"},
		{"Redis maxmemory not a size", []string{"redis.maxmemory=lots"}, "/redis/maxmemory"},
		{"Redis memory limit the chart cannot read", []string{"redis.resources.limits.memory=5e8"},
			`redis.resources.limits.memory "5e8" is not a quantity the chart reads`},
		{"ingress without host", []string{"market.create=true", "market.ingress.enabled=true"},
			"market.ingress.host is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", "event", chartDir}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			r := run(t, "", helmPath(t), args...)
			if r.err == nil {
				t.Fatalf("helm template accepted %v", tc.set)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("helm template %v said:\n%s\nwant a message with %q", tc.set, r.stderr, tc.want)
			}
		})
	}
}

// toString is v as JSON, for checks of what a part of an object mentions.
func toString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

package install

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const chartDir = "charts/monkonomy"

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// objects parses a multi-document manifest, as helm template or kustomize print it.
func objects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range docSeparator.Split(manifest, -1) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("parse manifest: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

// find returns the object of that kind and name, failing the test when there is none.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	if o := lookup(objs, kind, name); o != nil {
		return o
	}
	var have []string
	for _, o := range objs {
		have = append(have, o.GetKind()+"/"+o.GetName())
	}
	t.Fatalf("no %s %q among %s", kind, name, strings.Join(have, ", "))
	return nil
}

func lookup(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			return o
		}
	}
	return nil
}

func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// render runs helm template on the chart with the given flags.
func render(t *testing.T, release, namespace string, flags ...string) string {
	t.Helper()
	args := append([]string{"template", release, chartDir, "--namespace", namespace}, flags...)
	return mustRun(t, "", helmPath(t), args...)
}

// readYAML reads a YAML file of the repository into a generic map.
func readYAML(t *testing.T, rel string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	return m
}

// firstContainer returns the first container of a workload.
func firstContainer(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	if len(cs) == 0 {
		t.Fatalf("%s %s has no containers", o.GetKind(), o.GetName())
	}
	return cs[0].(map[string]any)
}

// containerArgs returns the args of the first container of a workload.
func containerArgs(t *testing.T, o *unstructured.Unstructured) []string {
	t.Helper()
	args, _, _ := unstructured.NestedStringSlice(firstContainer(t, o), "args")
	return args
}

// redisConf returns the redis.conf the chart's Secret of the given name gives Redis.
func redisConf(t *testing.T, objs []*unstructured.Unstructured, name string) string {
	t.Helper()
	conf, _, _ := unstructured.NestedString(find(t, objs, "Secret", name).Object, "data", "redis.conf")
	text, err := base64.StdEncoding.DecodeString(conf)
	if err != nil {
		t.Fatalf("redis.conf of Secret %s: %v", name, err)
	}
	return string(text)
}

// checkRedisMaxmemory checks that Redis keeps its data within three quarters of the memory
// limit of the StatefulSet sts, and refuses writes beyond, rather than be killed at it.
func checkRedisMaxmemory(t *testing.T, sts *unstructured.Unstructured, conf string) {
	t.Helper()
	limit, _, _ := unstructured.NestedString(firstContainer(t, sts), "resources", "limits", "memory")
	q, err := resource.ParseQuantity(limit)
	if err != nil {
		t.Fatalf("Redis's memory limit %q: %v", limit, err)
	}
	want := fmt.Sprintf("maxmemory %d\n", q.Value()*3/4)
	if !strings.Contains(conf, want) || !strings.Contains(conf, "maxmemory-policy noeviction\n") {
		t.Errorf("with a memory limit of %s, redis.conf has no %q and noeviction:\n%s", limit, want, conf)
	}
}

package controllers

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The CRDs, the RBAC role and the deep copies in the tree are what `make manifests
// generate` makes from the markers; a change of the markers without them fails here.
func TestGeneratedManifestsAreUpToDate(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(root, "bin", "controller-gen")
	if _, err := os.Stat(gen); err != nil {
		// The same install as the Makefile's rule.
		cmd := exec.Command("go", "install", "sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0")
		cmd.Env = append(os.Environ(), "GOBIN="+filepath.Join(root, "bin"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("install controller-gen (run `make manifests`): %v\n%s", err, out)
		}
	}
	tmp := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command(gen, args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen %v: %v\n%s", args, err, out)
		}
	}
	run("rbac:roleName=monkonomy-manager", "crd:allowDangerousTypes=false", "paths=./api/...", "paths=./controllers/...",
		"output:crd:artifacts:config="+filepath.Join(tmp, "crd"), "output:rbac:artifacts:config="+filepath.Join(tmp, "rbac"))
	run("object:headerFile=hack/boilerplate.go.txt", "paths=./api/...", "output:object:dir="+filepath.Join(tmp, "api"))
	for gen, committed := range map[string]string{
		"crd/game.monkonomy.dev_markets.yaml": "config/crd/bases/game.monkonomy.dev_markets.yaml",
		"crd/game.monkonomy.dev_traders.yaml": "config/crd/bases/game.monkonomy.dev_traders.yaml",
		"rbac/role.yaml":                      "config/rbac/role.yaml",
		"api/zz_generated.deepcopy.go":        "api/v1alpha1/zz_generated.deepcopy.go",
	} {
		want, err := os.ReadFile(filepath.Join(tmp, gen))
		if err != nil {
			t.Fatalf("controller-gen made no %s: %v", gen, err)
		}
		got, err := os.ReadFile(filepath.Join(root, committed))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make manifests generate` and commit the result", committed)
		}
	}
}

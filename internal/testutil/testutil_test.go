package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSyncBufferTakesConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d", i%10)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := len(b.String()); n != 1000 {
		t.Fatalf("buffer holds %d bytes, want 1000", n)
	}
}

// fakeTB records a failure instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(f)
}

func TestEventuallyWaitsForTheConditionAndFailsAfterTheTimeout(t *testing.T) {
	start := time.Now()
	n := 0
	Eventually(t, time.Second, "three polls", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("polled %d times, want 3", n)
	}
	f := &fakeTB{}
	func() {
		defer func() {
			if r := recover(); r != f {
				t.Fatalf("recovered %v, want the fake test's failure", r)
			}
		}()
		Eventually(f, 30*time.Millisecond, "nothing", func() bool { return false })
	}()
	if f.failed != "timed out after 30ms waiting for nothing" {
		t.Fatalf("failure message %q", f.failed)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("gave up after %s, before its timeout", d)
	}
}

func TestEnvtestAssetsFallBackToBinK8s(t *testing.T) {
	root := t.TempDir()
	t.Setenv("KUBEBUILDER_ASSETS", "")
	if _, err := EnvtestAssets(root); err == nil || !strings.Contains(err.Error(), "make envtest") {
		t.Fatalf("without the binaries: error %v, want one that says to run make envtest", err)
	}
	dir := filepath.Join(root, "bin", "k8s")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(dir, bin), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := EnvtestAssets(root); err != nil || got != dir {
		t.Fatalf("EnvtestAssets = %q, %v; want %q", got, err, dir)
	}
	// KUBEBUILDER_ASSETS wins over bin/k8s.
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	if _, err := EnvtestAssets(root); err == nil {
		t.Fatal("KUBEBUILDER_ASSETS names a folder without the binaries, and EnvtestAssets did not say so")
	}
}

func TestKubectlFallsBackToBin(t *testing.T) {
	root := t.TempDir()
	t.Setenv("PATH", t.TempDir()) // no kubectl on the PATH
	if _, err := Kubectl(root); err == nil || !strings.Contains(err.Error(), "make kubectl") {
		t.Fatalf("without kubectl: error %v, want one that says to run make kubectl", err)
	}
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(bin, "kubectl")
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := Kubectl(root); err != nil || got != want {
		t.Fatalf("Kubectl = %q, %v; want %q", got, err, want)
	}
	// One on the PATH wins over bin/.
	onPath := t.TempDir()
	if err := os.WriteFile(filepath.Join(onPath, "kubectl"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", onPath)
	if got, err := Kubectl(root); err != nil || got != filepath.Join(onPath, "kubectl") {
		t.Fatalf("Kubectl = %q, %v; want the one on the PATH, %s", got, err, filepath.Join(onPath, "kubectl"))
	}
}

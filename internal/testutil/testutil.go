// Package testutil holds small helpers shared by the project's tests.
package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer that one goroutine may write while another reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Eventually polls cond every 10ms until it holds, or fails the test after timeout with
// what it was waiting for.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// EnvtestAssets is the folder of the kube-apiserver and etcd that envtest runs:
// KUBEBUILDER_ASSETS when set, else bin/k8s of the repository at root, where `make envtest`
// builds them. Its error says how to get them.
func EnvtestAssets(root string) (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(root, "bin", "k8s")
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("%s is missing from %s: run `make envtest` (it builds kube-apiserver and etcd into bin/k8s), or set KUBEBUILDER_ASSETS to a folder that has them", bin, dir)
		}
	}
	return dir, nil
}

// Kubectl is the kubectl a test runs: the one on the PATH, else bin/kubectl of the
// repository at root, where `make kubectl` builds the kubectl of envtest's Kubernetes
// version. Its error says how to get one.
func Kubectl(root string) (string, error) {
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p, nil
	}
	p, err := filepath.Abs(filepath.Join(root, "bin", "kubectl"))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("kubectl is neither on the PATH nor at %s: run `make kubectl` (it builds the kubectl of envtest's Kubernetes version into bin/; Debian's kubernetes-client is too old)", p)
	}
	return p, nil
}

//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// nodeCommand runs a command on the cluster's node. On the local cluster of
// hack/local-cluster the node is this machine (the suite runs as root); on kind, set
// E2E_NODE_EXEC="docker exec kind-control-plane".
func nodeCommand(t *testing.T, args ...string) string {
	t.Helper()
	prefix := strings.Fields(envOr("E2E_NODE_EXEC", ""))
	all := append(prefix, args...)
	return must(t, all[0], all[1:]...)
}

// killContainer sends SIGKILL to a container's main process from the node. Inside the
// pod that process is PID 1, which ignores SIGKILL from its own PID namespace, so
// `kubectl exec ... kill -9 1` could not do it: the node can, as the kernel's OOM killer
// or a crash would.
func killContainer(t *testing.T, containerID string) {
	t.Helper()
	id := strings.TrimPrefix(containerID, "containerd://")
	if id == containerID {
		t.Fatalf("container %s does not run in containerd; the suite kills processes through ctr", containerID)
	}
	for _, line := range strings.Split(nodeCommand(t, "ctr", "-n", "k8s.io", "tasks", "ls"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == id {
			nodeCommand(t, "kill", "-KILL", f[1])
			t.Logf("Sent SIGKILL to process %s of container %.12s", f[1], id)
			return
		}
	}
	t.Fatalf("ctr -n k8s.io tasks ls lists no task %s", id)
}

//go:build e2e

// Package e2e plays a whole tournament on a real cluster, the way the docs tell an
// organiser and the teams to: helm installs the chart, kubectl applies a Market and
// Traders, kubectl and the kubectl plugin read the leaderboard, and faults are injected
// while the game runs. `make test-e2e` runs it; see docs/testing.md.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The release, its namespace (also the teams' namespace) and the images, as
// `make images` tags them. E2E_* variables point the suite at other images.
var (
	namespace        = envOr("E2E_NAMESPACE", "monkonomy-e2e")
	release          = "monkonomy"
	monkonomyImage   = envOr("E2E_IMAGE", "ghcr.io/monkonomy/monkonomy:dev")
	redisImage       = envOr("E2E_REDIS_IMAGE", "localhost/monkonomy/redis:7")
	teamTraderImage  = envOr("E2E_TEAM_TRADER_IMAGE", "localhost/monkonomy/team-trader:dev")
	redisPod         = release + "-redis-0"
	redisSecret      = release + "-redis"
	operatorDeploy   = release + "-operator"
	commandTimeout   = 2 * time.Minute
	pollInterval     = time.Second
	repoRoot         = findRepoRoot()
	requiredCommands = []string{"kubectl", "helm", "monkonomy", "kubectl-monkonomy"}
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func findRepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func TestMain(m *testing.M) {
	for _, c := range requiredCommands {
		if _, err := exec.LookPath(c); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s is not on PATH; run the suite with `make test-e2e`, which builds bin/helm, bin/monkonomy and bin/kubectl-monkonomy and puts bin/ on PATH (and kubectl too, when the machine has none)\n", c)
			os.Exit(1)
		}
	}
	if os.Getenv("KUBECONFIG") == "" {
		fmt.Fprintln(os.Stderr, "e2e: KUBECONFIG is not set; run `make test-e2e` (it starts a local cluster) or point KUBECONFIG at a cluster that has the images of `make images`")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// cmdResult is what a command printed.
type cmdResult struct {
	stdout, stderr string
	err            error
}

func (r cmdResult) String() string {
	return strings.TrimSpace(r.stdout + "\n" + r.stderr)
}

// runCmd runs a command with a bounded time and stdin, and returns what it printed.
func runCmd(stdin string, name string, args ...string) cmdResult {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return cmdResult{stdout: out.String(), stderr: errb.String(), err: err}
}

// must runs a command and stops the test when it fails.
func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	r := runCmd("", name, args...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.stdout
}

// kubectl runs kubectl in the suite's namespace and stops the test when it fails.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return must(t, "kubectl", append([]string{"-n", namespace}, args...)...)
}

// kubectlTry runs kubectl in the suite's namespace and returns its error.
func kubectlTry(args ...string) (string, error) {
	r := runCmd("", "kubectl", append([]string{"-n", namespace}, args...)...)
	return r.stdout, r.err
}

// apply applies a manifest with kubectl, as a team would.
func apply(t *testing.T, manifest string) {
	t.Helper()
	if r := runCmd(manifest, "kubectl", "-n", namespace, "apply", "-f", "-"); r.err != nil {
		t.Fatalf("%v\n%s", r.err, manifest)
	}
}

// eventually polls check until it returns nil, and stops the test with the last error
// when timeout passes first.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// getJSON reads an object with kubectl get -o json into v.
func getJSON(v any, args ...string) error {
	out, err := kubectlTry(append([]string{"get", "-o", "json"}, args...)...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("decode kubectl get %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// redisCLI runs redis-cli in the Redis pod with the admin password, as an organiser
// debugging a market would.
func redisCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	password := redisPassword(t)
	cmd := append([]string{"exec", redisPod, "-c", "redis", "--", "redis-cli", "--no-auth-warning", "-a", password}, args...)
	return kubectlTry(cmd...)
}

var (
	passwordOnce sync.Once
	password     string
)

func redisPassword(t *testing.T) string {
	t.Helper()
	passwordOnce.Do(func() {
		password = kubectl(t, "get", "secret", redisSecret, "-o", "go-template={{.data.password | base64decode}}")
	})
	return password
}

// portForward forwards a free local port to a Service of the suite's namespace, as
// `kubectl port-forward` does for a user, and returns "127.0.0.1:PORT". The forward stops
// with the test, or when the pod behind it goes away (call it again then).
func portForward(t *testing.T, target string, port int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "kubectl", "-n", namespace, "port-forward", "--address", "127.0.0.1", target, fmt.Sprintf("0:%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("kubectl port-forward %s: %v", target, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- "127.0.0.1:" + m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case addr := <-found:
		return addr
	case <-time.After(30 * time.Second):
		t.Fatalf("kubectl port-forward %s did not start within 30s: %s", target, stderr.String())
		return ""
	}
}

// dumpOnFailure prints what a person debugging the cluster would look at first.
func dumpOnFailure(t *testing.T) {
	t.Helper()
	if !t.Failed() {
		return
	}
	for _, args := range [][]string{
		{"get", "markets,traders,deployments,statefulsets,pods,services,secrets,pvc", "-o", "wide"},
		{"describe", "markets,traders"},
		{"describe", "pods"},
		{"get", "events", "--sort-by=.lastTimestamp"},
	} {
		r := runCmd("", "kubectl", append([]string{"-n", namespace}, args...)...)
		t.Logf("$ kubectl -n %s %s\n%s", namespace, strings.Join(args, " "), r)
	}
	pods, _ := kubectlTry("get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}")
	for _, pod := range strings.Fields(pods) {
		for _, prev := range []string{"", "--previous"} {
			args := []string{"logs", pod, "--all-containers", "--tail", "200"}
			if prev != "" {
				args = append(args, prev)
			}
			r := runCmd("", "kubectl", append([]string{"-n", namespace}, args...)...)
			if prev != "" && r.err != nil {
				continue
			}
			t.Logf("$ kubectl -n %s %s\n%s", namespace, strings.Join(args, " "), r)
		}
	}
}

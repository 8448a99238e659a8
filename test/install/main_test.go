// Package install tests what an organiser installs: the Helm chart, the kustomize config
// and its samples, the container image, and the kubectl plugin. They run the real helm,
// the real kubectl and the monkonomy binary against a real API server (envtest).
package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/internal/testutil"
)

var (
	// repoRoot is the repository's top folder, where make and go build run.
	repoRoot string
	// toolDir holds the monkonomy binary built for these tests, its kubectl-monkonomy
	// name, and the image tool; it goes first on the PATH of every command.
	toolDir string

	apiOnce sync.Once
	api     *apiServer
	apiErr  error
)

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/install:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runTests(m *testing.M) (int, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return 0, err
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "monkonomy-install-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	toolDir = dir
	// The same static build as `make build` and `make image`.
	if err := goBuild(filepath.Join(dir, "monkonomy"), "./cmd/monkonomy", "-ldflags", "-X main.version=install-test"); err != nil {
		return 0, err
	}
	if err := os.Symlink("monkonomy", filepath.Join(dir, "kubectl-monkonomy")); err != nil {
		return 0, err
	}
	if err := goBuild(filepath.Join(dir, "image"), "./hack/image"); err != nil {
		return 0, err
	}
	code := m.Run()
	if api != nil {
		if err := api.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop the API server:", err)
		}
	}
	return code, nil
}

func goBuild(out, pkg string, flags ...string) error {
	args := append([]string{"build", "-trimpath", "-o", out}, flags...)
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// apiServer is an envtest control plane with an admin kubeconfig for kubectl and helm.
type apiServer struct {
	env        *envtest.Environment
	kubeconfig string
	client     client.WithWatch
}

// startAPIServer starts one API server for the whole package, on first use.
func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	apiOnce.Do(func() { api, apiErr = newAPIServerAt(toolDir) })
	if apiErr != nil {
		t.Fatal(apiErr)
	}
	return api
}

// newAPIServerAt starts an API server and writes its admin kubeconfig into dir.
func newAPIServerAt(dir string) (*apiServer, error) {
	assets, err := testutil.EnvtestAssets(repoRoot)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	if _, err := env.Start(); err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	admin, err := env.ControlPlane.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("add the admin user: %w", err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		_ = env.Stop()
		return nil, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &apiServer{env: env, kubeconfig: path, client: c}, nil
}

// helmPath is bin/helm, which `make helm` builds.
func helmPath(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot, "bin", "helm")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("helm is missing from bin/: run `make helm`")
	}
	return p
}

func kubectlPath(t *testing.T) string {
	t.Helper()
	p, err := testutil.Kubectl(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type result struct {
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("err: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// run runs a command in the repository's folder with the test tools first on the PATH
// and, once the API server runs, its admin kubeconfig.
func run(t *testing.T, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot
	cmd.Env = commandEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, fmt.Errorf("%s did not finish within 2 minutes", name))
	}
	return result{stdout: out.String(), stderr: errb.String(), err: err}
}

func commandEnv() []string {
	env := []string{"PATH=" + toolDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		// helm keeps its caches and repositories under these; the test's own folder
		// keeps the user's untouched.
		"HELM_CACHE_HOME=" + filepath.Join(toolDir, "helm", "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(toolDir, "helm", "config"),
		"HELM_DATA_HOME=" + filepath.Join(toolDir, "helm", "data"),
		"HOME=" + toolDir}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "GOCACHE" || k == "GOPATH" || k == "TMPDIR" {
			env = append(env, kv)
		}
	}
	if api != nil {
		env = append(env, "KUBECONFIG="+api.kubeconfig)
	}
	return env
}

// mustRun is run that fails the test when the command fails.
func mustRun(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	r := run(t, stdin, name, args...)
	if r.err != nil {
		t.Fatalf("%s %s failed:\n%s", filepath.Base(name), strings.Join(args, " "), r)
	}
	return r.stdout
}

// createNamespace creates a namespace on the API server, for objects to land in.
func createNamespace(t *testing.T, name string) {
	t.Helper()
	mustRun(t, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name),
		kubectlPath(t), "apply", "--server-side", "-f", "-")
}

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

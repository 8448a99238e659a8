package install

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	"github.com/monkonomy/monkonomy/internal/testredis"
	"github.com/monkonomy/monkonomy/internal/testutil"
)

// The plugin is found by kubectl on the PATH, as kubectl-monkonomy: every test calls it
// the way an organiser or a team does, `kubectl monkonomy ...`.

func TestKubectlPluginJoinPrintsTradersTheAPIServerAccepts(t *testing.T) {
	a := ensureCRDs(t)
	createNamespace(t, "join")
	for _, tc := range []struct {
		name  string
		flags []string
		check func(v1alpha1.TraderSpec) bool
	}{
		{"red-team", []string{"--team", "Red Team", "--strategy", "momentum"},
			func(s v1alpha1.TraderSpec) bool {
				return s.Strategy.Builtin != nil && s.Strategy.Builtin.Name == "momentum"
			}},
		{"script-kiddies", []string{"--team", "Script Kiddies", "--script", "test/install/testdata/bot.star"},
			func(s v1alpha1.TraderSpec) bool {
				return s.Strategy.Script != nil && strings.Contains(*s.Strategy.Script, "def on_tick(tick, account, memory):")
			}},
		{"container-crew", []string{"--team", "Container Crew", "--image", "ghcr.io/crew/bot:1.0"},
			func(s v1alpha1.TraderSpec) bool { return s.Image != nil && s.Image.Name == "ghcr.io/crew/bot:1.0" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			manifest := mustRun(t, "", kubectlPath(t), append([]string{"monkonomy", "join", "--market", "bananas"}, tc.flags...)...)
			mustRun(t, manifest, kubectlPath(t), "apply", "--server-side", "-n", "join", "-f", "-")
			var tr v1alpha1.Trader
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.client.Get(ctx, client.ObjectKey{Namespace: "join", Name: tc.name}, &tr); err != nil {
				t.Fatalf("the joined Trader is not in the cluster: %v\n%s", err, manifest)
			}
			if tr.Spec.Market != "bananas" || !tc.check(tr.Spec) {
				t.Errorf("the Trader does not run what was asked: %+v", tr.Spec)
			}
		})
	}
}

func TestKubectlPluginJoinShowsScriptErrorsWithTheirLine(t *testing.T) {
	r := run(t, "", kubectlPath(t), "monkonomy", "join", "--team", "x", "--market", "bananas", "--script", "test/install/testdata/broken.star")
	if r.err == nil || !strings.Contains(r.stderr, "broken.star:2:1") {
		t.Fatalf("a script with a syntax error was not refused with its line:\n%s", r)
	}
	r = run(t, "", kubectlPath(t), "monkonomy", "join", "--team", "x", "--market", "bananas", "--strategy", "moonshot")
	if r.err == nil || !strings.Contains(r.stderr, "momentum") {
		t.Fatalf("an unknown strategy was not refused with the list of strategies:\n%s", r)
	}
}

// board creates a Market and Traders with the standings given as rank/score per trader.
func board(t *testing.T, a *apiServer, ns string, standings map[string][2]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	createNamespace(t, ns)
	m := &v1alpha1.Market{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bananas"}}
	if err := a.client.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	m.Status.Phase, m.Status.Tick, m.Status.Price = v1alpha1.MarketOpen, 42, "1.25"
	if err := a.client.Status().Update(ctx, m); err != nil {
		t.Fatal(err)
	}
	for name := range standings {
		tr := &v1alpha1.Trader{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.TraderSpec{Market: "bananas", Team: "Team " + name,
				Strategy: &v1alpha1.StrategySpec{Builtin: &v1alpha1.BuiltinStrategy{Name: "random"}}}}
		if err := a.client.Create(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	setStandings(t, a, ns, standings)
}

func setStandings(t *testing.T, a *apiServer, ns string, standings map[string][2]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, s := range standings {
		var tr v1alpha1.Trader
		if err := a.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &tr); err != nil {
			t.Fatal(err)
		}
		tr.Status.Rank, tr.Status.Score, tr.Status.Coins, tr.Status.Phase = int32(s[0]), s[1], "10", v1alpha1.TraderRunning
		if err := a.client.Status().Update(ctx, &tr); err != nil {
			t.Fatal(err)
		}
	}
}

// order returns the trader names in the order they appear in a leaderboard.
func order(boardText string, names ...string) []string {
	type pos struct {
		name string
		at   int
	}
	var found []pos
	for _, n := range names {
		if i := strings.Index(boardText, " "+n+" "); i >= 0 {
			found = append(found, pos{n, i})
		}
	}
	slices.SortFunc(found, func(a, b pos) int { return a.at - b.at })
	out := make([]string, len(found))
	for i, p := range found {
		out[i] = p.name
	}
	return out
}

func TestKubectlPluginLeaderboardSortsByRank(t *testing.T) {
	a := ensureCRDs(t)
	board(t, a, "board", map[string][2]int64{"ana": {2, 10}, "bob": {1, 30}, "cy": {0, 0}})
	// A Trader of another Market in the same namespace stays off this board.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	other := &v1alpha1.Trader{ObjectMeta: metav1.ObjectMeta{Namespace: "board", Name: "dee"},
		Spec: v1alpha1.TraderSpec{Market: "apples", Team: "Apple Pickers", Image: &v1alpha1.ImageSpec{Name: "bot:1"}}}
	if err := a.client.Create(ctx, other); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, "", kubectlPath(t), "monkonomy", "leaderboard", "-n", "board", "--market", "bananas")
	if got := order(out, "ana", "bob", "cy", "dee"); strings.Join(got, ",") != "bob,ana,cy" {
		t.Errorf("leaderboard order %v, want bob (rank 1), ana (rank 2), cy (unranked):\n%s", got, out)
	}
	for _, want := range []string{"Open", "tick 42", "price 1.25", "Team bob"} {
		if !strings.Contains(out, want) {
			t.Errorf("the leaderboard does not show %q:\n%s", want, out)
		}
	}
	// Without --market, the namespace's only Market.
	if out2 := mustRun(t, "", kubectlPath(t), "monkonomy", "leaderboard", "-n", "board"); !strings.Contains(out2, "board/bananas") {
		t.Errorf("without --market the leaderboard did not pick the only Market:\n%s", out2)
	}
	r := run(t, "", kubectlPath(t), "monkonomy", "leaderboard", "-n", "board", "--market", "cherries")
	if r.err == nil || !strings.Contains(r.stderr, `no Market "cherries"`) {
		t.Errorf("an unknown Market was not named in the error:\n%s", r)
	}
}

func TestKubectlPluginLeaderboardWatchRedrawsWhenStandingsChange(t *testing.T) {
	a := ensureCRDs(t)
	board(t, a, "board-live", map[string][2]int64{"ana": {1, 20}, "bob": {2, 5}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath(t), "monkonomy", "leaderboard", "-n", "board-live", "--watch", "--min-interval", "100ms")
	cmd.Env = commandEnv()
	var out, errb testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	lastBoard := func() string {
		s := out.String()
		if i := strings.LastIndex(s, "Market board-live/bananas"); i >= 0 {
			return s[i:]
		}
		return ""
	}
	testutil.Eventually(t, 30*time.Second, "the first leaderboard", func() bool {
		return strings.Join(order(lastBoard(), "ana", "bob"), ",") == "ana,bob"
	})
	setStandings(t, a, "board-live", map[string][2]int64{"ana": {2, 20}, "bob": {1, 25}})
	testutil.Eventually(t, 30*time.Second, "the leaderboard redrawn with bob first", func() bool {
		return strings.Join(order(lastBoard(), "ana", "bob"), ",") == "bob,ana"
	})
	if s := errb.String(); s != "" {
		t.Errorf("leaderboard --watch wrote errors:\n%s", s)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestKubectlPluginGibbPostsToTheEngine runs a real engine on a real Redis and posts a gibb
// to it with the admin token, as the organiser does from the stage.
func TestKubectlPluginGibbPostsToTheEngine(t *testing.T) {
	rs := testredis.Start(t, testredis.WithPassword("admin-pw"))
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engine := exec.CommandContext(ctx, filepath.Join(toolDir, "monkonomy"), "engine",
		"--redis", "redis://:admin-pw@"+rs.Addr, "--market", "event/bananas", "--http", addr,
		"--admin-token", "stage-token", "--lease-ttl", "1s")
	var logs testutil.SyncBuffer
	engine.Stdout, engine.Stderr = &logs, &logs
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = engine.Wait()
		if t.Failed() {
			t.Logf("engine log:\n%s", logs.String())
		}
	}()
	url := "http://" + addr
	testutil.Eventually(t, 30*time.Second, "the engine to lead the market", func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("stage-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", kubectlPath(t), "monkonomy", "gibb", "--engine-url", url, "--author", "mc", "banana", "up")
	if r.err == nil || !strings.Contains(r.stderr, "admin token") {
		t.Errorf("a gibb without the admin token was not refused with a hint:\n%s", r)
	}
	var posted result
	testutil.Eventually(t, 30*time.Second, "the engine to accept the gibb", func() bool {
		posted = run(t, "", kubectlPath(t), "monkonomy", "gibb", "--engine-url", url, "--token-file", tokenFile,
			"--author", "mc", "#mktd", "bananas", "to", "the", "moon")
		return posted.err == nil
	})
	if !strings.Contains(posted.stdout, "Posted the gibb") {
		t.Errorf("gibb printed:\n%s", posted)
	}
	resp, err := http.Get(url + "/api/gibbs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	feed, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(feed), "#mktd bananas to the moon") || !strings.Contains(string(feed), `"mc"`) {
		t.Errorf("the gibb is not in the market's feed: %s", feed)
	}
}

func TestKubectlPluginGibbThroughAPIServerSaysWhyTheEngineIsUnreachable(t *testing.T) {
	a := ensureCRDs(t)
	createNamespace(t, "no-engine")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.client.Create(ctx, &v1alpha1.Market{ObjectMeta: metav1.ObjectMeta{Namespace: "no-engine", Name: "bananas"}}); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", kubectlPath(t), "monkonomy", "gibb", "-n", "no-engine", "hello")
	if r.err == nil || !strings.Contains(r.stderr, "no engine Service bananas-engine") {
		t.Fatalf("a gibb to a Market without its engine Service did not say so:\n%s", r)
	}
	// A Service without a ready engine behind it: the API server's proxy has nowhere to go.
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "no-engine", Name: "bananas-engine"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}},
			Selector: map[string]string{"game.monkonomy.dev/market": "bananas"}}}
	if err := a.client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", kubectlPath(t), "monkonomy", "gibb", "-n", "no-engine", "--market", "bananas", "hello")
	if r.err == nil || !strings.Contains(r.stderr, "could not reach the engine of Market no-engine/bananas") {
		t.Fatalf("a gibb to a Market whose engine is not ready did not say so:\n%s", r)
	}
}

//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const market = "bananas"

// traders are the three teams of the tournament: a built-in strategy, a Starlark script
// and a team's own image, one of each kind a Trader can be.
var traders = []string{"feeder", "scripted", "team"}

const marketManifest = `
apiVersion: game.monkonomy.dev/v1alpha1
kind: Market
metadata:
  name: bananas
spec:
  tickInterval: 500ms
  seed: 42
`

func tradersManifest() string {
	return `
apiVersion: game.monkonomy.dev/v1alpha1
kind: Trader
metadata:
  name: feeder
spec:
  market: bananas
  team: Feeders
  strategy:
    builtin:
      name: feeder
---
apiVersion: game.monkonomy.dev/v1alpha1
kind: Trader
metadata:
  name: scripted
spec:
  market: bananas
  team: Scripters
  strategy:
    script: |
      def on_tick(tick, account, memory):
          if account.shares > 1:
              return [feed(1)]
          return [buy(1)]
---
apiVersion: game.monkonomy.dev/v1alpha1
kind: Trader
metadata:
  name: team
spec:
  market: bananas
  team: Team Go
  image:
    name: ` + teamTraderImage + `
`
}

// TestTournament plays one event from install to export. Each step needs the ones
// before it, so the first failure stops the game (and dumps the cluster's state).
func TestTournament(t *testing.T) {
	t.Cleanup(func() { dumpOnFailure(t) })
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"HelmInstallsTheChartAndTheOperatorBecomesReady", testInstall},
		{"MarketAndTradersBecomeReady", testMarketAndTradersBecomeReady},
		{"TraderPodsRunHardened", testTraderPodsRunHardened},
		{"GibbFromTheKubectlPluginReachesTheFeed", testGibbFromPlugin},
		{"TradersScoreAndRankOneToThree", testTradersScoreAndRank},
		{"LeaderboardEqualsTheEngineAccounts", testLeaderboardEqualsEngine},
		{"MarketShowsPhaseTickPriceAndLeader", testMarketStatus},
		{"DashboardAnswersThroughItsService", testDashboard},
		{"TraderCredentialsCannotWriteAnotherTradersOrders", testTraderIsolation},
		{"EngineKilledWithSIGKILLLosesNoOrder", testEngineKilled},
		{"EnginePodDeletedLosesNoOrder", testEnginePodDeleted},
		{"RedisPodDeletedEverythingReconnects", testRedisPodDeleted},
		{"OperatorPodDeletedCreatesNoDuplicates", testOperatorPodDeleted},
		{"CrashingTraderShowsCrashedAndOthersPlayOn", testCrashingTrader},
		{"DeletedTraderLeavesNoPodSecretOrRedisUser", testDeleteTrader},
		{"ClosedMarketFreezesTheRanking", testCloseMarket},
		{"ExportWritesTheResults", testExport},
		{"UninstallRemovesTheGame", testUninstall},
	}
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, s.run)
		t.Logf("%s: %s", s.name, time.Since(start).Round(100*time.Millisecond))
		if !ok {
			t.FailNow()
		}
	}
}

// removeGame deletes the game the way an organiser tears an event down: the Markets and
// Traders first, while the operator still runs to clean up after them (their finalizers
// remove the Redis users and keys), then the release, then the namespace.
func removeGame(t *testing.T) error {
	t.Helper()
	if r := runCmd("", "kubectl", "get", "namespace", namespace); r.err != nil {
		return nil
	}
	_ = runCmd("", "kubectl", "-n", namespace, "delete", "traders,markets", "--all", "--timeout", "60s")
	// A previous run may have lost its operator: nothing would ever release these then.
	if left, _ := kubectlTry("get", "traders,markets", "-o", "name"); strings.TrimSpace(left) != "" {
		for _, obj := range strings.Fields(left) {
			_ = runCmd("", "kubectl", "-n", namespace, "patch", obj, "--type", "merge", "-p", `{"metadata":{"finalizers":null}}`)
		}
	}
	if r := runCmd("", "helm", "uninstall", release, "-n", namespace, "--wait", "--ignore-not-found"); r.err != nil {
		return r.err
	}
	if r := runCmd("", "kubectl", "delete", "namespace", namespace, "--ignore-not-found", "--wait", "--timeout", "3m"); r.err != nil {
		return r.err
	}
	return nil
}

func testInstall(t *testing.T) {
	// A previous run's game goes first: the suite starts from nothing.
	if err := removeGame(t); err != nil {
		t.Fatalf("remove the previous run's game: %v", err)
	}
	image, tag, _ := strings.Cut(monkonomyImage, ":")
	redisRepo, redisTag, _ := strings.Cut(redisImage, ":")
	must(t, "helm", "install", release, "charts/monkonomy", "-n", namespace, "--create-namespace",
		"--set", "image.repository="+image, "--set-string", "image.tag="+tag,
		"--set", "redis.image.repository="+redisRepo, "--set-string", "redis.image.tag="+redisTag,
		"--wait", "--timeout", "5m")
	kubectl(t, "wait", "--for=condition=Ready", "pod", "-l", "app.kubernetes.io/component=operator", "--timeout", "2m")
	kubectl(t, "wait", "--for=condition=Ready", "pod", redisPod, "--timeout", "2m")
}

func testMarketAndTradersBecomeReady(t *testing.T) {
	apply(t, marketManifest)
	apply(t, tradersManifest())
	kubectl(t, "wait", "--for=condition=Ready", "market/"+market, "--timeout", "3m")
	kubectl(t, append([]string{"wait", "--for=condition=Ready", "--timeout", "3m"}, prefixed("trader/", traders)...)...)
}

// pod is the part of a Pod the suite reads.
type pod struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		AutomountServiceAccountToken *bool `json:"automountServiceAccountToken"`
		SecurityContext              struct {
			RunAsNonRoot   *bool  `json:"runAsNonRoot"`
			RunAsUser      *int64 `json:"runAsUser"`
			SeccompProfile *struct {
				Type string `json:"type"`
			} `json:"seccompProfile"`
		} `json:"securityContext"`
		Containers []struct {
			Name            string `json:"name"`
			SecurityContext *struct {
				ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
				AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
				Capabilities             *struct {
					Drop []string `json:"drop"`
				} `json:"capabilities"`
			} `json:"securityContext"`
			Resources struct {
				Limits map[string]string `json:"limits"`
			} `json:"resources"`
			VolumeMounts []struct {
				MountPath string `json:"mountPath"`
			} `json:"volumeMounts"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase             string `json:"phase"`
		ContainerStatuses []struct {
			Name         string `json:"name"`
			Ready        bool   `json:"ready"`
			RestartCount int    `json:"restartCount"`
			ContainerID  string `json:"containerID"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

type podList struct {
	Items []pod `json:"items"`
}

// runningPods returns the running pods with a label selector.
func runningPods(selector string) ([]pod, error) {
	var l podList
	if err := getJSON(&l, "pods", "-l", selector, "--field-selector", "status.phase=Running"); err != nil {
		return nil, err
	}
	return l.Items, nil
}

func traderSelector(name string) string { return "game.monkonomy.dev/trader=" + name }

const engineSelector = "app.kubernetes.io/component=engine,game.monkonomy.dev/market=" + market

func testTraderPodsRunHardened(t *testing.T) {
	for _, name := range traders {
		pods, err := runningPods(traderSelector(name))
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != 1 {
			t.Fatalf("trader %s has %d running pods, want 1", name, len(pods))
		}
		p := pods[0]
		sc := p.Spec.SecurityContext
		if p.Spec.AutomountServiceAccountToken == nil || *p.Spec.AutomountServiceAccountToken {
			t.Errorf("pod %s mounts a service-account token", p.Metadata.Name)
		}
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			t.Errorf("pod %s may run as root: %+v", p.Metadata.Name, sc)
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
			t.Errorf("pod %s has no RuntimeDefault seccomp profile", p.Metadata.Name)
		}
		for _, c := range p.Spec.Containers {
			csc := c.SecurityContext
			switch {
			case csc == nil:
				t.Errorf("container %s of pod %s has no security context", c.Name, p.Metadata.Name)
			case csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem:
				t.Errorf("container %s of pod %s has a writable root file system", c.Name, p.Metadata.Name)
			case csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation:
				t.Errorf("container %s of pod %s allows privilege escalation", c.Name, p.Metadata.Name)
			case csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL"):
				t.Errorf("container %s of pod %s keeps capabilities", c.Name, p.Metadata.Name)
			}
			if c.Resources.Limits["cpu"] == "" || c.Resources.Limits["memory"] == "" {
				t.Errorf("container %s of pod %s has no CPU and memory limits: %v", c.Name, p.Metadata.Name, c.Resources.Limits)
			}
			for _, m := range c.VolumeMounts {
				if strings.Contains(m.MountPath, "serviceaccount") {
					t.Errorf("container %s of pod %s mounts %s", c.Name, p.Metadata.Name, m.MountPath)
				}
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if !cs.Ready {
				t.Errorf("container %s of pod %s is not ready", cs.Name, p.Metadata.Name)
			}
		}
	}
}

func testGibbFromPlugin(t *testing.T) {
	text := "banana good great #mktd from the e2e stage"
	must(t, "kubectl", "monkonomy", "gibb", "-n", namespace, "--market", market, "--author", "e2e-stage", text)
	eventually(t, 30*time.Second, "the gibb in the market's public feed", func() error {
		out, err := redisCLI(t, "XREVRANGE", keys().gibbs, "+", "-", "COUNT", "50")
		if err != nil {
			return err
		}
		if !strings.Contains(out, text) || !strings.Contains(out, "e2e-stage") {
			return fmt.Errorf("the gibbs feed has no gibb by e2e-stage:\n%s", out)
		}
		return nil
	})
}

// traderStatus is the part of a Trader's status the suite reads.
type traderStatus struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Status struct {
		Phase string `json:"phase"`
		Rank  int    `json:"rank"`
		Score int64  `json:"score"`
	} `json:"status"`
}

func traderStatuses() (map[string]traderStatus, error) {
	var l struct {
		Items []traderStatus `json:"items"`
	}
	if err := getJSON(&l, "traders"); err != nil {
		return nil, err
	}
	out := map[string]traderStatus{}
	for _, tr := range l.Items {
		out[tr.Metadata.Name] = tr
	}
	return out, nil
}

func testTradersScoreAndRank(t *testing.T) {
	eventually(t, 90*time.Second, "every trader scored and ranked 1..3", func() error {
		st, err := traderStatuses()
		if err != nil {
			return err
		}
		ranks := map[int]bool{}
		for _, name := range traders {
			s := st[name].Status
			if s.Score <= 0 {
				return fmt.Errorf("trader %s has score %d", name, s.Score)
			}
			ranks[s.Rank] = true
		}
		if !ranks[1] || !ranks[2] || !ranks[3] {
			return fmt.Errorf("ranks are %v, want 1, 2 and 3", ranks)
		}
		return nil
	})
}

// marketKeys are the Redis keys of the suite's market.
type marketKeys struct {
	prefix, gibbs, scores, accounts, inbox, ticks string
}

func keys() marketKeys {
	p := "mk:{" + namespace + "/" + market + "}:"
	return marketKeys{prefix: p, gibbs: p + "gibbs", scores: p + "scores", accounts: p + "accounts", inbox: p + "inbox", ticks: p + "ticks"}
}

// account is the part of an engine's stored account the suite reads.
type account struct {
	Score    int64 `json:"score"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
}

// answered is how many of the trader's orders the engine has answered.
func (a account) answered() int64 { return a.Accepted + a.Rejected }

// engineAccounts reads the accounts the engine stored, as an organiser would with
// redis-cli.
func engineAccounts(t *testing.T) (map[string]account, error) {
	out, err := redisCLI(t, "--json", "HGETALL", keys().accounts)
	if err != nil {
		return nil, err
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return nil, fmt.Errorf("decode HGETALL %s: %w\n%s", keys().accounts, err, out)
	}
	accounts := map[string]account{}
	for name, js := range raw {
		var a account
		if err := json.Unmarshal([]byte(js), &a); err != nil {
			return nil, fmt.Errorf("decode the account of %s: %w", name, err)
		}
		accounts[name] = a
	}
	return accounts, nil
}

// setSuspended pauses or resumes the market through its spec, and waits for its phase.
func setSuspended(t *testing.T, suspend bool) {
	t.Helper()
	kubectl(t, "patch", "market", market, "--type", "merge", "-p", fmt.Sprintf(`{"spec":{"suspend":%t}}`, suspend))
	want := "Open"
	if suspend {
		want = "Paused"
	}
	kubectl(t, "wait", "market/"+market, "--for=jsonpath={.status.phase}="+want, "--timeout", "60s")
}

func testLeaderboardEqualsEngine(t *testing.T) {
	// Paused, scores stand still, and the status catches up with them.
	setSuspended(t, true)
	defer setSuspended(t, false)
	eventually(t, 30*time.Second, "kubectl get traders equal to the engine's accounts", func() error {
		engine, err := engineAccounts(t)
		if err != nil {
			return err
		}
		out, err := kubectlTry("get", "traders", "--sort-by=.status.rank", "--no-headers",
			"-o", "custom-columns=NAME:.metadata.name,RANK:.status.rank,SCORE:.status.score")
		if err != nil {
			return err
		}
		rows := strings.Split(strings.TrimSpace(out), "\n")
		if len(rows) != len(traders) {
			return fmt.Errorf("kubectl get traders shows %d rows, want %d:\n%s", len(rows), len(traders), out)
		}
		prev := int64(1 << 62)
		for i, row := range rows {
			f := strings.Fields(row)
			if len(f) != 3 {
				return fmt.Errorf("row %q is not NAME RANK SCORE", row)
			}
			if f[1] != strconv.Itoa(i+1) {
				return fmt.Errorf("row %d shows rank %s:\n%s", i+1, f[1], out)
			}
			score, _ := strconv.ParseInt(f[2], 10, 64)
			if want, ok := engine[f[0]]; !ok || want.Score != score {
				return fmt.Errorf("trader %s shows score %d, the engine's account says %d (found %t)", f[0], score, want.Score, ok)
			}
			if score > prev {
				return fmt.Errorf("rank %d has a higher score than the rank above it:\n%s", i+1, out)
			}
			prev = score
		}
		return nil
	})
	auditPasses(t)
}

type marketStatus struct {
	Status struct {
		Phase   string `json:"phase"`
		Tick    int64  `json:"tick"`
		Price   string `json:"price"`
		Leaders []struct {
			Rank   int    `json:"rank"`
			Trader string `json:"trader"`
		} `json:"leaders"`
	} `json:"status"`
}

func readMarket() (marketStatus, error) {
	var m marketStatus
	err := getJSON(&m, "market", market)
	return m, err
}

var decimalRE = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,6})?$`)

func testMarketStatus(t *testing.T) {
	eventually(t, 30*time.Second, "the market's status", func() error {
		m, err := readMarket()
		if err != nil {
			return err
		}
		st, err := traderStatuses()
		if err != nil {
			return err
		}
		s := m.Status
		switch {
		case s.Phase != "Open":
			return fmt.Errorf("phase %q, want Open", s.Phase)
		case s.Tick <= 0:
			return fmt.Errorf("tick %d", s.Tick)
		case !decimalRE.MatchString(s.Price):
			return fmt.Errorf("price %q is not a decimal", s.Price)
		case len(s.Leaders) == 0:
			return fmt.Errorf("no leaders")
		}
		for name, tr := range st {
			if tr.Status.Rank == 1 && s.Leaders[0].Trader != name {
				return fmt.Errorf("leader %s, but trader %s has rank 1", s.Leaders[0].Trader, name)
			}
		}
		return nil
	})
	out := kubectl(t, "get", "market", market)
	for _, col := range []string{"PHASE", "TICK", "PRICE", "LEADER", "Open"} {
		if !strings.Contains(out, col) {
			t.Errorf("kubectl get market shows no %s:\n%s", col, out)
		}
	}
}

func testDashboard(t *testing.T) {
	base := "/api/v1/namespaces/" + namespace + "/services/http:" + market + "-engine:http/proxy/"
	page := must(t, "kubectl", "get", "--raw", base)
	if !strings.Contains(strings.ToLower(page), "<html") {
		t.Fatalf("the dashboard page is not HTML:\n%.500s", page)
	}
	api := must(t, "kubectl", "get", "--raw", base+"api/market")
	var state map[string]any
	if err := json.Unmarshal([]byte(api), &state); err != nil {
		t.Fatalf("the dashboard's /api/market is not JSON: %v\n%.500s", err, api)
	}
}

func testTraderIsolation(t *testing.T) {
	// From inside the team's own pod, with the credentials the operator gave it.
	r := runCmd("", "kubectl", "-n", namespace, "exec", "deploy/trader-team", "--", "/team-trader", "probe", "feeder")
	if r.err != nil || !strings.HasPrefix(strings.TrimSpace(r.stdout), "refused") {
		t.Errorf("the team trader's credentials could write feeder's orders: %v\n%s", r.err, r)
	}
	// And with a built-in trader's Secret, through redis-cli.
	user := kubectl(t, "get", "secret", "trader-feeder-redis", "-o", "go-template={{.data.username | base64decode}}")
	pass := kubectl(t, "get", "secret", "trader-feeder-redis", "-o", "go-template={{.data.password | base64decode}}")
	out, _ := kubectlTry("exec", redisPod, "-c", "redis", "--", "redis-cli", "--no-auth-warning", "--user", user, "--pass", pass,
		"XADD", keys().prefix+"orders:team", "*", "v", "1", "kind", "feed", "qty", "1")
	if !strings.Contains(out, "NOPERM") {
		t.Errorf("feeder's credentials appended to team's orders: %q", out)
	}
	out, _ = kubectlTry("exec", redisPod, "-c", "redis", "--", "redis-cli", "--no-auth-warning", "--user", user, "--pass", pass,
		"HSET", keys().accounts, "feeder", "{}")
	if !strings.Contains(out, "NOPERM") {
		t.Errorf("feeder's credentials wrote the accounts: %q", out)
	}
}

// auditPasses replays the market's journal with `monkonomy audit` while the market is
// paused (the command's documented condition) and expects no difference.
func auditPasses(t *testing.T) {
	t.Helper()
	addr := portForward(t, "svc/"+release+"-redis", 6379)
	url := "redis://:" + redisPassword(t) + "@" + addr
	r := runCmd("", "monkonomy", "audit", "--redis", url, "--market", namespace+"/"+market)
	if r.err != nil {
		t.Fatalf("monkonomy audit failed: %v\n%s", r.err, r)
	}
	t.Logf("monkonomy audit: %s", strings.TrimSpace(r.stdout))
}

// gameGoesOn waits until the market ticks on and the engine answers new orders of every
// given trader (each reconnected and trades), then audits the market while paused.
func gameGoesOn(t *testing.T, players ...string) {
	t.Helper()
	before, err := readMarket()
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := engineAccounts(t)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "the game going on", func() error {
		m, err := readMarket()
		if err != nil {
			return err
		}
		if m.Status.Phase != "Open" || m.Status.Tick <= before.Status.Tick+2 {
			return fmt.Errorf("market %s at tick %d (was %d)", m.Status.Phase, m.Status.Tick, before.Status.Tick)
		}
		now, err := engineAccounts(t)
		if err != nil {
			return err
		}
		for _, p := range players {
			if now[p].answered() <= accounts[p].answered() {
				return fmt.Errorf("trader %s has no new order answered (%d)", p, now[p].answered())
			}
		}
		t.Logf("the game went on: tick %d to %d, every trader's new orders answered", before.Status.Tick, m.Status.Tick)
		return nil
	})
	setSuspended(t, true)
	everyOrderAnsweredOnce(t, players...)
	auditPasses(t)
	setSuspended(t, false)
}

// streamEntry is one entry of `redis-cli --json XRANGE`: an id and its field/value list.
type streamEntry struct {
	id     string
	fields map[string]string
}

func xrange(t *testing.T, key string) ([]streamEntry, error) {
	out, err := redisCLI(t, "--json", "XRANGE", key, "-", "+")
	if err != nil {
		return nil, err
	}
	var raw [][]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		return nil, fmt.Errorf("decode XRANGE %s: %w", key, err)
	}
	entries := make([]streamEntry, 0, len(raw))
	for _, r := range raw {
		var e streamEntry
		var kv []string
		if len(r) != 2 || json.Unmarshal(r[0], &e.id) != nil || json.Unmarshal(r[1], &kv) != nil {
			return nil, fmt.Errorf("XRANGE %s: an entry is not [id, [field, value, ...]]", key)
		}
		e.fields = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			e.fields[kv[i]] = kv[i+1]
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// everyOrderAnsweredOnce checks what exactly-once promises each trader: every entry of its
// orders stream has exactly one result, and no result answers an order twice. Nothing
// was lost in a crash, nothing applied again after it.
func everyOrderAnsweredOnce(t *testing.T, players ...string) {
	t.Helper()
	for _, p := range players {
		eventually(t, 30*time.Second, "every order of "+p+" answered exactly once", func() error {
			// Results first: every result answers an order already in the stream.
			results, err := xrange(t, keys().prefix+"results:"+p)
			if err != nil {
				return err
			}
			orders, err := xrange(t, keys().prefix+"orders:"+p)
			if err != nil {
				return err
			}
			answers := map[string]int{}
			for _, r := range results {
				if r.fields["kind"] != "harvest" {
					answers[r.fields["order"]]++
				}
			}
			for order, n := range answers {
				if n > 1 {
					t.Fatalf("order %s of trader %s was answered %d times", order, p, n)
				}
			}
			missing := 0
			for _, o := range orders {
				if answers[o.id] == 0 {
					missing++
				}
			}
			if missing > 0 {
				return fmt.Errorf("%d of %d orders of trader %s have no result", missing, len(orders), p)
			}
			t.Logf("trader %s: each of its %d orders answered exactly once", p, len(orders))
			return nil
		})
	}
}

func enginePod(t *testing.T) pod {
	t.Helper()
	var p pod
	eventually(t, 2*time.Minute, "one running engine pod", func() error {
		pods, err := runningPods(engineSelector)
		if err != nil {
			return err
		}
		if len(pods) != 1 {
			return fmt.Errorf("%d running engine pods", len(pods))
		}
		p = pods[0]
		return nil
	})
	return p
}

func testEngineKilled(t *testing.T) {
	p := enginePod(t)
	if len(p.Status.ContainerStatuses) == 0 {
		t.Fatalf("engine pod %s has no container status", p.Metadata.Name)
	}
	restarts := p.Status.ContainerStatuses[0].RestartCount
	killContainer(t, p.Status.ContainerStatuses[0].ContainerID)
	eventually(t, 2*time.Minute, "the engine container restarted", func() error {
		var again pod
		if err := getJSON(&again, "pod", p.Metadata.Name); err != nil {
			return err
		}
		cs := again.Status.ContainerStatuses
		if len(cs) == 0 || cs[0].RestartCount <= restarts || !cs[0].Ready {
			return fmt.Errorf("engine container: %+v", cs)
		}
		t.Logf("the engine container restarted in its pod (restarts %d to %d)", restarts, cs[0].RestartCount)
		return nil
	})
	gameGoesOn(t, traders...)
}

func testEnginePodDeleted(t *testing.T) {
	p := enginePod(t)
	kubectl(t, "delete", "pod", p.Metadata.Name, "--wait=false")
	eventually(t, 2*time.Minute, "a new engine pod", func() error {
		pods, err := runningPods(engineSelector)
		if err != nil {
			return err
		}
		if len(pods) != 1 || pods[0].Metadata.Name == p.Metadata.Name {
			return fmt.Errorf("%d running engine pods", len(pods))
		}
		return nil
	})
	gameGoesOn(t, traders...)
}

func testRedisPodDeleted(t *testing.T) {
	kubectl(t, "delete", "pod", redisPod, "--wait=true", "--timeout", "60s")
	kubectl(t, "wait", "--for=condition=Ready", "pod/"+redisPod, "--timeout", "2m")
	eventually(t, 2*time.Minute, "every trader's Redis user back", func() error {
		out, err := redisCLI(t, "ACL", "USERS")
		if err != nil {
			return err
		}
		for _, name := range traders {
			if !strings.Contains(out, "trader:"+namespace+"/"+market+"/"+name) {
				return fmt.Errorf("no Redis user for trader %s:\n%s", name, out)
			}
		}
		return nil
	})
	gameGoesOn(t, traders...)
}

func testOperatorPodDeleted(t *testing.T) {
	kubectl(t, "delete", "pod", "-l", "app.kubernetes.io/component=operator", "--wait=true", "--timeout", "60s")
	kubectl(t, "rollout", "status", "deploy/"+operatorDeploy, "--timeout", "2m")
	before, err := readMarket()
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the market's status updated by the new operator", func() error {
		m, err := readMarket()
		if err != nil {
			return err
		}
		if m.Status.Tick <= before.Status.Tick+2 {
			return fmt.Errorf("status tick %d (was %d)", m.Status.Tick, before.Status.Tick)
		}
		return nil
	})
	counts := map[string]string{
		"deployments": engineSelector,
		"services":    engineSelector,
	}
	for _, name := range traders {
		counts["deployments/"+name] = traderSelector(name)
		counts["secrets/"+name] = traderSelector(name)
	}
	for what, selector := range counts {
		kind, _, _ := strings.Cut(what, "/")
		out := kubectl(t, "get", kind, "-l", selector, "-o", "name")
		if n := len(strings.Fields(out)); n != 1 {
			t.Errorf("%d %s with labels %s, want 1:\n%s", n, kind, selector, out)
		}
	}
	gameGoesOn(t, traders...)
}

func testCrashingTrader(t *testing.T) {
	apply(t, `
apiVersion: game.monkonomy.dev/v1alpha1
kind: Trader
metadata:
  name: crasher
spec:
  market: bananas
  team: Crashers
  image:
    name: `+teamTraderImage+`
    args: [crash]
`)
	kubectl(t, "wait", "trader/crasher", "--for=jsonpath={.status.phase}=Crashed", "--timeout", "3m")
	st, err := traderStatuses()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range traders {
		if st[name].Status.Phase != "Running" {
			t.Errorf("trader %s is %s while crasher crashes", name, st[name].Status.Phase)
		}
	}
	gameGoesOn(t, traders...)
}

func testDeleteTrader(t *testing.T) {
	user := "trader:" + namespace + "/" + market + "/crasher"
	if out, _ := redisCLI(t, "ACL", "USERS"); !strings.Contains(out, user) {
		t.Fatalf("no Redis user %s before the deletion:\n%s", user, out)
	}
	kubectl(t, "delete", "trader", "crasher", "--timeout", "2m")
	eventually(t, time.Minute, "crasher's pod, Secret and Redis user gone", func() error {
		for _, kind := range []string{"pods", "secrets", "deployments"} {
			out, err := kubectlTry("get", kind, "-l", traderSelector("crasher"), "-o", "name")
			if err != nil {
				return err
			}
			if strings.TrimSpace(out) != "" {
				return fmt.Errorf("still there: %s", out)
			}
		}
		out, err := redisCLI(t, "ACL", "USERS")
		if err != nil {
			return err
		}
		if strings.Contains(out, user) {
			return fmt.Errorf("Redis user %s still exists", user)
		}
		return nil
	})
}

func testCloseMarket(t *testing.T) {
	// The organiser's phase command, through the market's inbox.
	if out, err := redisCLI(t, "XADD", keys().inbox, "*", "v", "1", "kind", "phase", "phase", "close"); err != nil {
		t.Fatalf("send close: %v\n%s", err, out)
	}
	kubectl(t, "wait", "market/"+market, "--for=jsonpath={.status.phase}=Closed", "--timeout", "60s")
	first, err := engineAccounts(t)
	if err != nil {
		t.Fatal(err)
	}
	ranking := func() string {
		return kubectl(t, "get", "traders", "--sort-by=.status.rank", "--no-headers",
			"-o", "custom-columns=NAME:.metadata.name,RANK:.status.rank,SCORE:.status.score")
	}
	// Let the statuses catch up, then nothing may move any more.
	var frozen string
	eventually(t, 30*time.Second, "the ranking equal to the final accounts", func() error {
		frozen = ranking()
		for _, row := range strings.Split(strings.TrimSpace(frozen), "\n") {
			f := strings.Fields(row)
			if len(f) == 3 && f[2] != strconv.FormatInt(first[f[0]].Score, 10) {
				return fmt.Errorf("trader %s shows %s, final account %d", f[0], f[2], first[f[0]].Score)
			}
		}
		return nil
	})
	time.Sleep(3 * time.Second) // a few ticks' worth of orders, which must all be refused
	if again := ranking(); again != frozen {
		t.Errorf("the ranking moved after the close:\n%s\nthen\n%s", frozen, again)
	}
	after, err := engineAccounts(t)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range first {
		if after[name].Score != a.Score {
			t.Errorf("trader %s scored after the close: %d then %d", name, a.Score, after[name].Score)
		}
	}
	auditPasses(t)
}

func testExport(t *testing.T) {
	dir := t.TempDir()
	addr := portForward(t, "svc/"+release+"-redis", 6379)
	must(t, "monkonomy", "export", "--redis", "redis://:"+redisPassword(t)+"@"+addr, "--market", namespace+"/"+market, "--out", dir)
	for _, f := range []string{"ticks.jsonl", "gibbs.jsonl", "journal.jsonl", "results.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("export wrote no %s: %v", f, err)
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			t.Errorf("export wrote an empty %s", f)
		}
	}
	results, _ := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	for _, name := range traders {
		if !strings.Contains(string(results), `"`+name+`"`) {
			t.Errorf("results.jsonl has no result of trader %s", name)
		}
	}
	ticks, _ := os.ReadFile(filepath.Join(dir, "ticks.jsonl"))
	if n := strings.Count(string(ticks), "\n"); n < 10 {
		t.Errorf("ticks.jsonl has %d ticks, want the whole game", n)
	}
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

func testUninstall(t *testing.T) {
	if err := removeGame(t); err != nil {
		t.Fatal(err)
	}
	// The chart's Redis volume goes with its namespace.
	eventually(t, time.Minute, "the Redis volume removed", func() error {
		r := runCmd("", "kubectl", "get", "pv", "-o", `jsonpath={range .items[*]}{.spec.claimRef.namespace}{" "}{end}`)
		if r.err != nil {
			return r.err
		}
		if strings.Contains(r.stdout, namespace) {
			return fmt.Errorf("a volume of namespace %s is still there", namespace)
		}
		return nil
	})
}

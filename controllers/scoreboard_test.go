package controllers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/monkonomy/monkonomy/api/v1alpha1"
	mktest "github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

// writeAccount stores an account and its score as the engine does.
func (w *world) writeAccount(k protocol.Keys, trader string, a rules.Account) {
	w.t.Helper()
	score := a.Score(rules.DefaultBailoutPenalty)
	if err := w.admin.HSet(w.ctx, k.Accounts(), trader, protocol.AppendAccountJSON(nil, a, score)).Err(); err != nil {
		w.t.Fatalf("write account: %v", err)
	}
	if err := w.admin.ZAdd(w.ctx, k.Scores(), redis.Z{Score: float64(score), Member: trader}).Err(); err != nil {
		w.t.Fatalf("write score: %v", err)
	}
}

func TestLeaderboardIsRankedIntoStatusAndKubectl(t *testing.T) {
	kubectl, err := mktest.Kubectl("..")
	if err != nil {
		t.Fatal("this test runs kubectl, as a user has it: ", err)
	}
	w := newWorld(t)
	w.market("meetup")
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		w.trader(n, "meetup", "Team-"+strings.ToUpper(n[:1])+n[1:])
	}
	k := protocol.Market{Namespace: w.ns, Name: "meetup"}.Keys()
	w.publishTick(k, 7, "2.000000", "open")
	// alice and bob tie on score; bob's shares at 2 coins make him worth more.
	w.writeAccount(k, "alice", rules.Account{Coins: rules.Coins(20), Fed: 10, Accepted: 4, Rejected: 1, ScoredAt: 5})
	w.writeAccount(k, "bob", rules.Account{Coins: rules.Coins(5), Shares: 10, Fed: 30, Bailouts: 1, InFlight: 2, Accepted: 9, ScoredAt: 9})
	w.writeAccount(k, "carol", rules.Account{Coins: 1_500_000, Shares: 1, Fed: 3, Accepted: 1, ScoredAt: 2})

	want := map[string]v1alpha1.TraderStatus{
		"bob":   {Rank: 1, Score: 10, MonkeysFed: 30, Coins: "5.000000", Shares: 10, Bailouts: 1, InFlight: 2, NetWorth: "25.000000", Orders: v1alpha1.OrderCounts{Accepted: 9}},
		"alice": {Rank: 2, Score: 10, MonkeysFed: 10, Coins: "20.000000", NetWorth: "20.000000", Orders: v1alpha1.OrderCounts{Accepted: 4, Rejected: 1}},
		"carol": {Rank: 3, Score: 3, MonkeysFed: 3, Coins: "1.500000", Shares: 1, NetWorth: "3.500000", Orders: v1alpha1.OrderCounts{Accepted: 1}},
		"dave":  {},
	}
	for name, ws := range want {
		var tr v1alpha1.Trader
		w.eventually(name+" shows the market's numbers", func() (bool, string) {
			_ = w.get(name, &tr)
			got := tr.Status
			ok := got.Rank == ws.Rank && got.Score == ws.Score && got.MonkeysFed == ws.MonkeysFed && got.Coins == ws.Coins &&
				got.Shares == ws.Shares && got.Bailouts == ws.Bailouts && got.InFlight == ws.InFlight && got.NetWorth == ws.NetWorth &&
				got.Orders == ws.Orders
			return ok, fmt.Sprintf("%+v", got)
		})
		scored := condition(tr.Status.Conditions, v1alpha1.TraderScored)
		if (ws.Rank > 0) != (scored.Status == metav1.ConditionTrue) {
			w.eventually(name+"'s Scored condition follows its rank", func() (bool, string) {
				_ = w.get(name, &tr)
				c := condition(tr.Status.Conditions, v1alpha1.TraderScored)
				return (ws.Rank > 0) == (c.Status == metav1.ConditionTrue), describe(tr.Status.Conditions)
			})
		}
		if ws.Rank > 0 && tr.Status.LastOrderAt == nil {
			t.Errorf("%s has orders but no lastOrderAt", name)
		}
	}
	var m v1alpha1.Market
	w.eventually("the Market shows the top three", func() (bool, string) {
		_ = w.get("meetup", &m)
		l := m.Status.Leaders
		return len(l) == 3 && l[0].Trader == "bob" && l[0].Team == "Team-Bob" && l[1].Trader == "alice" && l[2].Trader == "carol" &&
			m.Status.Traders == 4 && m.Status.Tick == 7, fmt.Sprintf("%+v", m.Status)
	})

	// Nothing changed, nothing written.
	before := testutil.ToFloat64(statusWrites.WithLabelValues("Trader")) + testutil.ToFloat64(statusWrites.WithLabelValues("Market"))
	time.Sleep(3 * 200 * time.Millisecond)
	if err := w.op.Scoreboard.Pass(w.ctx); err != nil {
		t.Fatalf("pass: %v", err)
	}
	after := testutil.ToFloat64(statusWrites.WithLabelValues("Trader")) + testutil.ToFloat64(statusWrites.WithLabelValues("Market"))
	if after != before {
		t.Errorf("the scoreboard wrote %v statuses while nothing changed", after-before)
	}

	// What a user types: kubectl against the API server.
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, testEnv.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig, "-n", w.ns}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	table := parseTable(run("get", "traders", "--sort-by=.status.rank"))
	if got := strings.Join(table[0], " "); got != "NAME RANK TEAM SCORE MONKEYS COINS SHARES BAILOUTS PHASE AGE" {
		t.Errorf("kubectl get traders columns: %s", got)
	}
	rows := map[string][]string{}
	for _, r := range table[1:] {
		rows[r[0]] = r
	}
	for name, wantRow := range map[string]string{
		"bob":   "bob 1 Team-Bob 10 30 5.000000 10 1 Pending",
		"alice": "alice 2 Team-Alice 10 10 20.000000 0 0 Pending",
		"carol": "carol 3 Team-Carol 3 3 1.500000 1 0 Pending",
	} {
		if got := strings.Join(rows[name][:9], " "); got != wantRow {
			t.Errorf("kubectl row of %s = %q, want %q", name, got, wantRow)
		}
	}
	if last := table[len(table)-1]; last[0] != "carol" {
		t.Errorf("--sort-by=.status.rank ends with %s, want carol (dave, unranked, first)", last[0])
	}
	wide := parseTable(run("get", "trd", "-o", "wide"))
	if got := strings.Join(wide[0], " "); !strings.Contains(got, "IN-FLIGHT NET-WORTH ACCEPTED REJECTED MARKET") {
		t.Errorf("kubectl get trd -o wide columns: %s", got)
	}
	mk := parseTable(run("get", "mkt"))
	if got := strings.Join(mk[0], " ") + " / " + strings.Join(mk[1], " "); !strings.HasPrefix(got, "NAME PHASE TICK PRICE TRADERS LEADER AGE / meetup Open 7 2.000000 4 Team-Bob") {
		t.Errorf("kubectl get mkt = %s", got)
	}
	if out := run("get", "monkonomy"); !strings.Contains(out, "market.game.monkonomy.dev/meetup") || !strings.Contains(out, "trader.game.monkonomy.dev/bob") {
		t.Errorf("kubectl get monkonomy does not list both kinds:\n%s", out)
	}
}

func parseTable(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func TestScoreboardOverBudgetRanksNewcomersBeforeHoldings(t *testing.T) {
	// The scoreboard of the operator waits an hour between passes: this test makes its own.
	w := newWorld(t, func(o *Options) { o.ScoreInterval = time.Hour })
	w.market("meetup")
	w.trader("alice", "meetup", "A")
	w.trader("bob", "meetup", "B")
	read := func(name string) *v1alpha1.Trader {
		var tr v1alpha1.Trader
		w.eventually(name+" is reconciled", func() (bool, string) {
			err := w.get(name, &tr)
			return err == nil && tr.Status.ObservedGeneration == tr.Generation, describe(tr.Status.Conditions)
		})
		return &tr
	}
	alice := read("alice")
	alice.Status.Rank, alice.Status.Coins, alice.Status.NetWorth = 1, "10.000000", "10.000000"
	if err := k8s.Status().Update(w.ctx, alice); err != nil {
		t.Fatalf("rank alice: %v", err)
	}
	alice, bob := read("alice"), read("bob")

	now := time.Now()
	holdings, ok := traderWrite(alice, traderScore{rank: 1, account: rules.Account{Coins: rules.Coins(12)}, netWorth: rules.Coins(12)}, now)
	if !ok {
		t.Fatal("alice's new coins need no write")
	}
	first, ok := traderWrite(bob, traderScore{rank: 2, account: rules.Account{Coins: rules.Coins(10)}, netWorth: rules.Coins(10)}, now)
	if !ok {
		t.Fatal("bob's first rank needs no write")
	}
	board := &Scoreboard{Writer: k8s, Interval: time.Second, Workers: 1, Budget: 1}
	if errs := board.write(w.ctx, []statusWrite{holdings, first}, now); len(errs) > 0 {
		t.Fatalf("write: %v", errs)
	}

	bob = read("bob")
	if bob.Status.Rank != 2 || !meta.IsStatusConditionTrue(bob.Status.Conditions, v1alpha1.TraderScored) {
		t.Errorf("bob, new, has rank %d and %s; want rank 2 and Scored=True in the same write", bob.Status.Rank, describe(bob.Status.Conditions))
	}
	if alice = read("alice"); alice.Status.Coins != "10.000000" {
		t.Errorf("alice's holdings were written (coins %s) although the budget of one write went to bob's first rank", alice.Status.Coins)
	}
	if errs := board.write(w.ctx, []statusWrite{holdings}, now.Add(time.Second)); len(errs) > 0 {
		t.Fatalf("write: %v", errs)
	}
	if alice = read("alice"); alice.Status.Coins != "12.000000" {
		t.Errorf("alice's holdings in the next pass: coins %s, want 12.000000", alice.Status.Coins)
	}
}

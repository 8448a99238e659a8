package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFeedWithTooFewSharesIsSavedByABailout(t *testing.T) {
	// "2 coins, 3 shares, nothing in flight, feed 7": the tentative account has −4 shares
	// and 2 coins, so it is bailed out to 12 coins and 1 share, and the order is accepted.
	m := openMarket(t, Config{}, "alice")
	setAccount(m, "alice", Account{Coins: Coins(2), Shares: 3})
	r := m.Apply(Order{Trader: "alice", ID: "o1", Kind: KindFeed, Qty: 7})
	a := r.Account
	if r.Status != StatusAccepted || a.Coins != Coins(12) || a.Shares != 1 || a.Fed != 7 || a.Bailouts != 1 {
		t.Fatalf("feed 7 = %v %q, account %+v; want accepted with 12 coins, 1 share, 7 fed, 1 bailout", r.Status, r.Reason, a)
	}
	if r.Score != 7-20 {
		t.Fatalf("score = %d; want 7 − 20", r.Score)
	}
}

func TestRejectedOrderLeavesTheAccountUnchanged(t *testing.T) {
	// 2 coins and 3 shares, buy 5 at 1: the tentative account has −3 coins and 8 shares, so
	// no bailout, and the order is refused without touching the account.
	m := openMarket(t, Config{}, "alice")
	before := Account{Coins: Coins(2), Shares: 3, Fed: 4}
	setAccount(m, "alice", before)
	r := m.Apply(Order{Trader: "alice", ID: "o1", Kind: KindBuy, Qty: 5})
	if r.Status != StatusInsufficientCoins {
		t.Fatalf("buy 5 = %v; want insufficient_coins", r.Status)
	}
	if want := "buying 5 shares at 1.000000 costs 5.000000 coins; you have 2.000000"; r.Reason != want {
		t.Errorf("reason = %q; want %q", r.Reason, want)
	}
	after := r.Account
	after.Bucket, after.BucketTick, after.Rejected = 0, 0, 0
	if after != before {
		t.Fatalf("account after a refused order = %+v; want %+v (no bailout either)", after, before)
	}
	if r.Account.Rejected != 1 || r.Account.Accepted != 0 {
		t.Fatalf("counts = %d accepted, %d rejected", r.Account.Accepted, r.Account.Rejected)
	}
}

func TestBuySellAndFeedMoveCoinsSharesAndMonkeys(t *testing.T) {
	m := openMarket(t, Config{PriceInitial: 1.02}, "alice")
	r := m.Apply(Order{Trader: "alice", Kind: KindBuy, Qty: 3})
	if r.Status != StatusAccepted || r.Price != 1_020_000 || r.Account.Coins != Coins(10)-3_060_000 || r.Account.Shares != 8 {
		t.Fatalf("buy 3 at 1.02 = %+v", r)
	}
	r = m.Apply(Order{Trader: "alice", Kind: KindSell, Qty: 2})
	if r.Account.Coins != Coins(10)-1_020_000 || r.Account.Shares != 6 {
		t.Fatalf("sell 2 = %+v", r.Account)
	}
	r = m.Apply(Order{Trader: "alice", Kind: KindFeed, Qty: 6})
	if r.Account.Shares != 0 || r.Account.Fed != 6 || r.Score != 6 || r.Account.Bailouts != 0 {
		t.Fatalf("feed 6 = %+v", r.Account) // 8.98 coins left: no bailout
	}
	if r.Account.Accepted != 3 {
		t.Fatalf("accepted = %d", r.Account.Accepted)
	}
}

func TestSellWithoutSharesIsRejected(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	r := m.Apply(Order{Trader: "alice", Kind: KindSell, Qty: 6})
	if r.Status != StatusInsufficientShares || r.Reason != "selling 6 shares needs 6 shares; you have 5" {
		t.Fatalf("sell 6 of 5 = %v %q", r.Status, r.Reason)
	}
	r = m.Apply(Order{Trader: "alice", Kind: KindFeed, Qty: 9})
	if r.Status != StatusInsufficientShares || r.Reason != "feeding 9 monkeys needs 9 shares; you have 5" {
		t.Fatalf("feed 9 of 5 = %v %q", r.Status, r.Reason)
	}
}

func TestChecksRunInTheRulesOrder(t *testing.T) {
	m := NewMarket(Config{})
	m.AddTrader("alice")
	bad := Order{Trader: "alice", Kind: KindBuy, Qty: 0, Invalid: "quantity \"x\" is not a whole number"}
	if r := m.Apply(Order{Trader: "mallory", Kind: KindBuy, Qty: 1}); r.Status != StatusInvalid || r.Reason != reasonUnknownTrader {
		t.Errorf("unknown trader: %v %q", r.Status, r.Reason)
	}
	if r := m.Apply(bad); r.Status != StatusMarketClosed || r.Reason == "" {
		t.Errorf("pending market: %v %q", r.Status, r.Reason)
	}
	_ = m.SetPhase(PhaseOpen)
	_ = m.SetPhase(PhasePaused)
	if r := m.Apply(bad); r.Status != StatusMarketPaused {
		t.Errorf("paused market: %v", r.Status)
	}
	_ = m.SetPhase(PhaseOpen)
	if r := m.Apply(bad); r.Status != StatusInvalid || r.Reason != bad.Invalid {
		t.Errorf("decoder's reason: %v %q", r.Status, r.Reason)
	}
	for _, o := range []Order{
		{Kind: KindBuy, Qty: 0}, {Kind: KindSell, Qty: -1}, {Kind: KindFeed, Qty: MaxQty + 1},
		{Kind: KindInvest, Coins: 0}, {Kind: KindGibb, Text: ""}, {Kind: KindHarvest}, {Kind: 0},
	} {
		o.Trader = "alice"
		if r := m.Apply(o); r.Status != StatusInvalid || r.Reason == "" {
			t.Errorf("%+v: %v %q; want invalid with a reason", o, r.Status, r.Reason)
		}
	}
	// Every order past the phase check spent a token: 1 decoder-invalid + 7 invalid fields.
	if r := m.Apply(Order{Trader: "alice", Kind: KindBuy, Qty: 1}); r.Status != StatusAccepted || r.Account.Bucket != 1 {
		t.Fatalf("buy = %v with %d tokens left; want accepted with 1", r.Status, r.Account.Bucket)
	}
	m.Apply(Order{Trader: "alice", Kind: KindBuy, Qty: 1})
	if r := m.Apply(bad); r.Status != StatusRateLimited {
		t.Errorf("over the limit: %v; want rate_limited before invalid", r.Status)
	}
	_ = m.SetPhase(PhaseClosed)
	if r := m.Apply(Order{Trader: "alice", Kind: KindBuy, Qty: 1}); r.Status != StatusMarketClosed {
		t.Errorf("closed market: %v", r.Status)
	}
	if a, _ := m.Account("alice"); a.Rejected != 12 || a.Accepted != 2 {
		t.Errorf("counts = %d accepted, %d rejected; want 2 and 12", a.Accepted, a.Rejected)
	}
}

func TestFiveOrdersPerTickWithABurstOfTen(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	buy := Order{Trader: "alice", Kind: KindBuy, Qty: 1}
	count := func() (n int) {
		for i := 0; i < 20; i++ {
			if m.Apply(buy).Status != StatusRateLimited {
				n++
			}
		}
		return n
	}
	if n := count(); n != 10 {
		t.Fatalf("%d orders taken at opening; want 10 (a full bucket)", n)
	}
	m.Tick()
	if n := count(); n != 5 {
		t.Fatalf("%d orders taken after one tick; want 5", n)
	}
	for i := 0; i < 7; i++ {
		m.Tick()
	}
	if n := count(); n != 10 {
		t.Fatalf("%d orders taken after idle ticks; want 10 (at most 2 ticks kept)", n)
	}
}

func TestBailoutAppliesOnlyWithNothingInFlightFewCoinsAndNoShares(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start Account
		order Order
		want  int64 // bailouts after
	}{
		{"sell the last shares with 3 coins", Account{Coins: Coins(3) - 1_000_000, Shares: 1}, Order{Kind: KindSell, Qty: 1}, 1},
		{"3.000001 coins is too many", Account{Coins: Coins(2) + 1, Shares: 1}, Order{Kind: KindSell, Qty: 1}, 0},
		{"a share left", Account{Coins: 0, Shares: 2}, Order{Kind: KindFeed, Qty: 1}, 0},
		{"something in flight", Account{Coins: Coins(1), Shares: 1, InFlight: 1}, Order{Kind: KindFeed, Qty: 1}, 0},
		{"an invest puts something in flight", Account{Coins: Coins(2)}, Order{Kind: KindInvest, Coins: Coins(1)}, 0},
		{"a gibb too", Account{Coins: Coins(1)}, Order{Kind: KindGibb, Text: "hello"}, 1},
	} {
		m := openMarket(t, Config{}, "alice")
		setAccount(m, "alice", tc.start)
		tc.order.Trader = "alice"
		r := m.Apply(tc.order)
		if r.Status != StatusAccepted || r.Account.Bailouts != tc.want {
			t.Errorf("%s: %v %q, %d bailouts; want accepted with %d", tc.name, r.Status, r.Reason, r.Account.Bailouts, tc.want)
		}
	}
}

func TestScoredAtRecordsWhenTheScoreChanged(t *testing.T) {
	m := openMarket(t, Config{}, "alice", "bob")
	m.Apply(Order{Trader: "alice", Kind: KindBuy, Qty: 1})
	r1 := m.Apply(Order{Trader: "bob", Kind: KindFeed, Qty: 1})
	r2 := m.Apply(Order{Trader: "alice", Kind: KindFeed, Qty: 1})
	if r1.Account.ScoredAt == 0 || r2.Account.ScoredAt <= r1.Account.ScoredAt {
		t.Fatalf("ScoredAt bob %d, alice %d; want bob first", r1.Account.ScoredAt, r2.Account.ScoredAt)
	}
	r3 := m.Apply(Order{Trader: "bob", Kind: KindBuy, Qty: 1})
	if r3.Account.ScoredAt != r1.Account.ScoredAt {
		t.Fatalf("a buy moved ScoredAt from %d to %d", r1.Account.ScoredAt, r3.Account.ScoredAt)
	}
}

func TestEveryRefusalHasAReason(t *testing.T) {
	m := openMarket(t, Config{Seed: 3}, "alice", "bob", "carol")
	p := newPlayer(3, []string{"alice", "bob", "carol", "mallory"})
	var out strings.Builder
	for i := 0; i < 5000; i++ {
		p.step(m, &out)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "order") && !strings.Contains(line, "Status:accepted") && strings.Contains(line, "Reason: ") {
			t.Fatalf("refused without a reason: %s", line)
		}
	}
}

func TestAcceptedTradesConserveValueExactly(t *testing.T) {
	// At the price of the order, coins + shares × P is the same before and after an accepted
	// buy or sell without a bailout.
	m := openMarket(t, Config{Seed: 12, MaxOrdersPerTick: 1000}, "a", "b", "c")
	rng := rand.New(rand.NewPCG(12, 0))
	checked := 0
	for i := 0; i < 20_000; i++ {
		if i%50 == 0 {
			m.Tick()
		}
		name := []string{"a", "b", "c"}[rng.IntN(3)]
		before, _ := m.Account(name)
		o := Order{Trader: name, Kind: []Kind{KindBuy, KindSell}[rng.IntN(2)], Qty: 1 + rng.Int64N(6)}
		r := m.Apply(o)
		if r.Status != StatusAccepted || r.Account.Bailouts != before.Bailouts {
			continue
		}
		checked++
		if NetWorth(before, r.Price) != NetWorth(r.Account, r.Price) {
			t.Fatalf("%+v at %s: worth %s before, %s after", o, r.Price, NetWorth(before, r.Price), NetWorth(r.Account, r.Price))
		}
	}
	if checked < 5000 {
		t.Fatalf("only %d accepted trades checked", checked)
	}
}

func TestScoreChangesOnlyWithAFeedOrABailout(t *testing.T) {
	m := openMarket(t, Config{Seed: 5}, "alice", "bob", "carol")
	p := newPlayer(5, []string{"alice", "bob", "carol"})
	var out strings.Builder
	score := func() map[string]Account {
		s := map[string]Account{}
		m.Accounts(func(n string, a Account) { s[n] = a })
		return s
	}
	prev := score()
	changed := 0
	for i := 0; i < 20_000; i++ {
		p.step(m, &out)
		out.Reset()
		cur := score()
		for name, a := range cur {
			b := prev[name]
			if a.Score(20) == b.Score(20) {
				continue
			}
			changed++
			if a.Fed == b.Fed && a.Bailouts == b.Bailouts {
				t.Fatalf("%s's score changed without a feed or a bailout: %+v → %+v", name, b, a)
			}
			if a.ScoredAt == b.ScoredAt {
				t.Fatalf("%s's score changed but ScoredAt stayed %d", name, a.ScoredAt)
			}
		}
		prev = cur
	}
	if changed < 20 {
		t.Fatalf("only %d score changes seen", changed)
	}
}

func TestSameSeedAndInputsGiveByteIdenticalResults(t *testing.T) {
	run := func() string {
		m := openMarket(t, Config{Seed: 77}, "alice", "bob")
		p := newPlayer(1, []string{"alice", "bob"})
		var out strings.Builder
		for i := 0; i < 5000; i++ {
			p.step(m, &out)
		}
		fmt.Fprintf(&out, "%+v\n", m.Standings(nil))
		return out.String()
	}
	if a, b := run(), run(); a != b {
		t.Fatal("two runs with the same seed and inputs differ")
	}
}

func TestTradingOrdersDoNotAllocate(t *testing.T) {
	m := openMarket(t, Config{}, "alice")
	setAccount(m, "alice", Account{Coins: Coins(1000), Shares: 100})
	orders := []Order{
		{Trader: "alice", ID: "1", Kind: KindBuy, Qty: 2},
		{Trader: "alice", ID: "2", Kind: KindSell, Qty: 1},
		{Trader: "alice", ID: "3", Kind: KindFeed, Qty: 1},
		{Trader: "alice", ID: "4", Kind: KindBuy, Qty: 0},               // invalid
		{Trader: "alice", ID: "5", Kind: KindBuy, Qty: 1, Invalid: "x"}, // decoder's reason
		{Trader: "nobody", ID: "6", Kind: KindBuy, Qty: 1},              // unknown trader
		{Trader: "alice", ID: "7", Kind: KindBuy, Qty: 1},               // rate limited
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if i%5 == 0 {
			m.Tick()
		}
		m.Apply(orders[i%len(orders)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Apply allocated %v times per order; want 0", allocs)
	}
}

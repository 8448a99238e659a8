package engine

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/monkonomy/monkonomy/internal/testutil"
	"github.com/monkonomy/monkonomy/market/protocol"
	"github.com/monkonomy/monkonomy/market/rules"
)

func coins(s string) rules.Micro {
	m, err := rules.ParseMicro(s)
	if err != nil {
		panic(err)
	}
	return m
}

func TestAFullGamePlaysByTheRules(t *testing.T) {
	_, rdb := newRedis(t)
	register(t, rdb, "alice", "bob", "carol")
	e := startEngine(t, rdb, steadySettings(30*time.Millisecond))
	testutil.Eventually(t, 10*time.Second, "the market to tick", func() bool { return lastTick(t, rdb).Seq >= 2 })
	if tk := lastTick(t, rdb); tk.Price != coins("1") || tk.Phase != rules.PhaseOpen {
		t.Fatalf("tick %+v: want an open market at price 1.000000", tk)
	}

	// Every kind of order, at a price of exactly 1.
	send(t, rdb, "alice", rules.Order{ID: "a1", Kind: rules.KindBuy, Qty: 2})
	send(t, rdb, "alice", rules.Order{ID: "a2", Kind: rules.KindSell, Qty: 1})
	send(t, rdb, "alice", rules.Order{ID: "a3", Kind: rules.KindFeed, Qty: 3})
	send(t, rdb, "alice", rules.Order{ID: "a4", Kind: rules.KindInvest, Coins: coins("1.5")})
	want := []struct {
		id     string
		coins  string
		shares int64
		fed    int64
	}{{"a1", "8", 7, 0}, {"a2", "9", 6, 0}, {"a3", "9", 3, 3}, {"a4", "7.5", 3, 3}}
	for _, w := range want {
		r := resultOf(t, rdb, "alice", w.id)
		if r.Status != rules.StatusAccepted || r.Account.Coins != coins(w.coins) || r.Account.Shares != w.shares || r.Account.Fed != w.fed || r.Price != coins("1") {
			t.Errorf("order %s: got %+v, want accepted with %s coins, %d shares, %d fed", w.id, r, w.coins, w.shares, w.fed)
		}
	}

	// The plantation is harvested in market time: 10 ms per coin invested.
	var harvest protocol.Result
	testutil.Eventually(t, 10*time.Second, "the harvest of a4", func() bool {
		for _, r := range results(t, rdb, "alice") {
			if r.Kind == rules.KindHarvest {
				harvest = r
				return true
			}
		}
		return false
	})
	if harvest.ID != "a4" || harvest.Status != rules.StatusHarvest || harvest.Credit < coins("1.5") || harvest.Credit > coins("1.725") ||
		harvest.Account.Coins != coins("7.5")+harvest.Credit || harvest.Account.InFlight != 0 {
		t.Errorf("harvest: got %+v", harvest)
	}

	// A bailout: no shares, nothing in flight, at most 3 coins.
	send(t, rdb, "bob", rules.Order{ID: "b1", Kind: rules.KindFeed, Qty: 5})
	send(t, rdb, "bob", rules.Order{ID: "b2", Kind: rules.KindBuy, Qty: 8})
	send(t, rdb, "bob", rules.Order{ID: "b3", Kind: rules.KindFeed, Qty: 8})
	if r := resultOf(t, rdb, "bob", "b3"); r.Status != rules.StatusAccepted || r.Account.Bailouts != 1 ||
		r.Account.Coins != coins("12") || r.Account.Shares != 5 || r.Account.Fed != 13 || r.Score != 13-20 {
		t.Errorf("bailout: got %+v", r)
	}
	send(t, rdb, "bob", rules.Order{ID: "b4", Kind: rules.KindSell, Qty: 6})
	send(t, rdb, "bob", rules.Order{ID: "b5", Kind: rules.KindBuy, Qty: 13})
	if r := resultOf(t, rdb, "bob", "b4"); r.Status != rules.StatusInsufficientShares || r.Account.Shares != 5 {
		t.Errorf("sell without shares: got %+v", r)
	}
	if r := resultOf(t, rdb, "bob", "b5"); r.Status != rules.StatusInsufficientCoins || r.Account.Coins != coins("12") {
		t.Errorf("buy without coins: got %+v", r)
	}

	// A retried order id gets its first result again and is not applied twice.
	send(t, rdb, "alice", rules.Order{ID: "a1", Kind: rules.KindBuy, Qty: 2})
	again := resultsFor(t, rdb, "alice", "a1", 2)
	if again[1].Account != again[0].Account || again[1].Status != rules.StatusAccepted {
		t.Errorf("retried order: first %+v, again %+v", again[0], again[1])
	}

	// A gibb that moves the price: "mktd" scores 100 points, "great" 1: 1.01 coins of hype.
	send(t, rdb, "alice", rules.Order{ID: "a5", Kind: rules.KindGibb, Text: "Banana #mktd great!"})
	if r := resultOf(t, rdb, "alice", "a5"); r.Status != rules.StatusAccepted {
		t.Fatalf("gibb: got %+v", r)
	}
	testutil.Eventually(t, 10*time.Second, "the hype to move the price", func() bool { return lastTick(t, rdb).Price > coins("1.5") })
	var gibbs []protocol.Gibb
	if code := getJSON(t, e.srv.URL+"/api/gibbs?n=5", &gibbs); code != http.StatusOK || len(gibbs) != 1 ||
		gibbs[0].Author != "alice" || gibbs[0].Points != 101 || gibbs[0].Hype != coins("1.01") {
		t.Errorf("gibbs feed: %d %+v", code, gibbs)
	}
	// A second gibb in the same tick is rate limited. Appended in one transaction, both are
	// read in one batch, which is applied within one tick.
	tx := rdb.TxPipeline()
	for _, id := range []string{"a6", "a7"} {
		tx.XAdd(context.Background(), redisXAdd{"alice", rules.Order{ID: id, Kind: rules.KindGibb, Text: "banana"}}.args())
	}
	if _, err := tx.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a6, a7 := resultOf(t, rdb, "alice", "a6"), resultOf(t, rdb, "alice", "a7"); a6.Status != rules.StatusAccepted || a7.Status != rules.StatusRateLimited {
		t.Errorf("two gibbs in one tick: %v and %v, want accepted and rate_limited", a6.Status, a7.Status)
	}

	// More orders than the allowance in one go: the bucket holds 10.
	p := rdb.Pipeline()
	for i := range 25 {
		p.XAdd(context.Background(), redisXAdd{"carol", rules.Order{ID: "c" + itoa(i), Kind: rules.KindFeed, Qty: 0}}.args())
	}
	if _, err := p.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	rl := 0
	for i := range 25 {
		if resultOf(t, rdb, "carol", "c"+itoa(i)).Status == rules.StatusRateLimited {
			rl++
		}
	}
	if rl == 0 {
		t.Errorf("25 orders at once: none was rate limited")
	}

	// Malformed input is answered invalid and the engine carries on.
	sendRaw(t, rdb, "bob", "id", "junk1", "kind", "steal", "qty", "1")
	sendRaw(t, rdb, "bob", "id", "junk2", "kind", "buy", "qty", "1", "evil", "\x00\xff")
	for _, id := range []string{"junk1", "junk2"} {
		if r := resultOf(t, rdb, "bob", id); r.Status != rules.StatusInvalid || r.Reason == "" {
			t.Errorf("malformed order %s: got %+v", id, r)
		}
	}

	// Phases from the inbox: pause, resume, close.
	inbox(t, rdb, protocol.Inbox{Kind: protocol.InboxPhase, Phase: protocol.PhasePause})
	testutil.Eventually(t, 10*time.Second, "the market to pause", func() bool { return lastTick(t, rdb).Phase == rules.PhasePaused })
	paused := lastTick(t, rdb).Seq
	send(t, rdb, "bob", rules.Order{ID: "p1", Kind: rules.KindBuy, Qty: 1})
	if r := resultOf(t, rdb, "bob", "p1"); r.Status != rules.StatusMarketPaused {
		t.Errorf("order while paused: got %+v", r)
	}
	time.Sleep(100 * time.Millisecond) // three ticks' worth: none may come while paused
	if tk := lastTick(t, rdb); tk.Seq != paused || tk.Phase != rules.PhasePaused {
		t.Errorf("market ticked while paused: %+v", tk)
	}
	inbox(t, rdb, protocol.Inbox{Kind: protocol.InboxPhase, Phase: protocol.PhaseResume})
	testutil.Eventually(t, 10*time.Second, "the market to tick again", func() bool { return lastTick(t, rdb).Seq > paused })
	inbox(t, rdb, protocol.Inbox{Kind: protocol.InboxPhase, Phase: protocol.PhaseClose})
	testutil.Eventually(t, 10*time.Second, "the market to close", func() bool { return lastTick(t, rdb).Phase == rules.PhaseClosed })
	send(t, rdb, "bob", rules.Order{ID: "z1", Kind: rules.KindBuy, Qty: 1})
	if r := resultOf(t, rdb, "bob", "z1"); r.Status != rules.StatusMarketClosed {
		t.Errorf("order after close: got %+v", r)
	}

	// The leaderboard ranks by score: alice fed 3, carol 0, bob 13 − 20.
	var board []Standing
	testutil.Eventually(t, 10*time.Second, "the final leaderboard", func() bool {
		board = nil
		getJSON(t, e.srv.URL+"/api/leaderboard", &board)
		return len(board) == 3 && board[2].Trader == "bob"
	})
	if board[0].Trader != "alice" || board[0].Rank != 1 || board[0].Score != 3 || board[2].Score != -7 || board[2].Bailouts != 1 {
		t.Errorf("leaderboard: %+v", board)
	}
	// The scores sorted set says the same, though buys and sells do not write it.
	scores, err := rdb.ZRangeWithScores(context.Background(), testMarket.Keys().Scores(), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	wantScores := map[string]float64{"alice": 3, "carol": 0, "bob": -7}
	if len(scores) != len(wantScores) {
		t.Errorf("scores set: %v, want %v", scores, wantScores)
	}
	for _, z := range scores {
		name, _ := z.Member.(string)
		if w, ok := wantScores[name]; !ok || z.Score != w {
			t.Errorf("scores set: %v = %v, want %v", z.Member, z.Score, w)
		}
	}
	e.stop(t)
	rep := audit(t, rdb)
	if rep.Events == 0 || rep.Traders != 3 {
		t.Errorf("audit replayed %d events for %d traders", rep.Events, rep.Traders)
	}
}

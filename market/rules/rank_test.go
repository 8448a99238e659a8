package rules

import (
	"slices"
	"testing"
)

func TestRankOrdersByScoreNetWorthTimeAndName(t *testing.T) {
	s := []Standing{
		{Trader: "dave", Score: 3, NetWorth: Coins(5), ScoredAt: 9},
		{Trader: "carol", Score: 3, NetWorth: Coins(5), ScoredAt: 4},
		{Trader: "bob", Score: 3, NetWorth: Coins(5), ScoredAt: 4},
		{Trader: "erin", Score: 3, NetWorth: Coins(8), ScoredAt: 20},
		{Trader: "alice", Score: 1, NetWorth: Coins(100)},
		{Trader: "frank", Score: 7, NetWorth: Coins(1)},
	}
	Rank(s)
	var got []string
	for i, st := range s {
		got = append(got, st.Trader)
		if st.Rank != i+1 {
			t.Errorf("%s has rank %d; want %d", st.Trader, st.Rank, i+1)
		}
	}
	if want := []string{"frank", "erin", "bob", "carol", "dave", "alice"}; !slices.Equal(got, want) {
		t.Errorf("ranking = %v; want %v", got, want)
	}
}

func TestStandingsUseTheLatestPrice(t *testing.T) {
	m := openMarket(t, Config{PriceInitial: 2}, "alice", "bob")
	m.Apply(Order{Trader: "bob", Kind: KindSell, Qty: 5}) // bob: 20 coins, 0 shares
	s := m.Standings(func(n string) string { return "team-" + n })
	if s[0].Trader != "alice" || s[0].NetWorth != Coins(20) || s[1].NetWorth != Coins(20) {
		t.Fatalf("standings = %+v; want equal worth 20 and alice first by name", s)
	}
	if s[0].Team != "team-alice" || s[0].Rank != 1 || s[1].Rank != 2 {
		t.Fatalf("standings = %+v", s)
	}
	if got := m.Standings(nil); got[0].Team != "" {
		t.Fatalf("standings without teams = %+v", got)
	}
}

package rules

import (
	"strings"
	"testing"
)

// FuzzApplyOrder sends orders made of arbitrary wire strings through the decoders and the
// market, the way the engine does: nothing panics, every refusal has a reason, and no
// account breaks the rules' invariants.
func FuzzApplyOrder(f *testing.F) {
	for _, s := range [][4]string{
		{"buy", "3", "", ""}, {"sell", "7", "", ""}, {"feed", "1000000", "", ""}, {"feed", "1000001", "", ""},
		{"invest", "", "2.5", ""}, {"invest", "", "0.0000001", ""}, {"invest", "", "9223372036854.775807", ""},
		{"gibb", "", "", "I love #banana #mktd6 up up"}, {"gibb", "", "", ""}, {"harvest", "1", "", ""},
		{"BUY", "-1", "", ""}, {"sell", "1.5", "", ""}, {"gibb", "", "", strings.Repeat("banana ", 50)},
	} {
		f.Add(s[0], s[1], s[2], s[3], uint8(0))
	}
	f.Fuzz(func(t *testing.T, kind, qty, coins, text string, who uint8) {
		m := openMarket(t, Config{Seed: 1}, "alice", "bob")
		trader := []string{"alice", "bob", "mallory"}[int(who)%3]
		for i := 0; i < 12; i++ {
			o := Order{Trader: trader, ID: "o1", Text: text}
			var err error
			o.Kind, err = ParseOrderKind(kind)
			switch {
			case err != nil:
			case o.Kind == KindInvest:
				o.Coins, err = ParseCoins(coins)
			case o.Kind != KindGibb:
				o.Qty, err = ParseQty(qty)
			}
			if err != nil {
				o.Invalid = err.Error()
			}
			r := m.Apply(o)
			if r.Status != StatusAccepted && r.Reason == "" {
				t.Fatalf("%+v: %s without a reason", o, r.Status)
			}
			if r.Plantation != nil {
				m.SetTime(r.Plantation.DueMs)
				h := m.Harvest(*r.Plantation)
				if h.Status != StatusHarvest || h.Credit < 0 || h.Credit > r.Plantation.Coins*115/100+1 {
					t.Fatalf("harvest of %+v = %+v", *r.Plantation, h)
				}
			}
			if i%4 == 3 {
				m.Tick()
			}
			m.Accounts(func(name string, a Account) {
				if a.Coins < 0 || a.Coins > MaxCoins || a.Shares < 0 || a.Fed < 0 || a.InFlight < 0 ||
					a.Bucket < 0 || a.Bucket > 10 || a.Bailouts < 0 {
					t.Fatalf("%s's account broke an invariant after %+v: %+v", name, o, a)
				}
			})
		}
	})
}

package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// openMarket returns an open market of cfg with the given traders registered.
func openMarket(t testing.TB, cfg Config, traders ...string) *Market {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := NewMarket(cfg)
	for _, name := range traders {
		if !m.AddTrader(name) {
			t.Fatalf("AddTrader(%q) = false", name)
		}
	}
	if err := m.SetPhase(PhaseOpen); err != nil {
		t.Fatal(err)
	}
	return m
}

// setAccount replaces a trader's account for a test's starting position.
func setAccount(m *Market, name string, a Account) {
	cur := m.accounts[name]
	a.Bucket, a.BucketTick = cur.Bucket, cur.BucketTick
	*cur = a
}

// player drives a market with random but reproducible inputs, as a game would.
type player struct {
	rng     *rand.Rand
	traders []string
	orders  int
	pending []Plantation
}

func newPlayer(seed uint64, traders []string) *player {
	return &player{rng: rand.New(rand.NewPCG(seed, 7)), traders: traders}
}

var gibbTexts = []string{
	"banana up up", "I love #banana #mktd6 up up", "banana bubble burst", "no banana", "just noise",
	"BANANA good great", "banana sell sell sell", "#mktd banana", "", strings.Repeat("x", 281),
}

// step sends one random input and writes everything it produced to out.
func (p *player) step(m *Market, out *strings.Builder) {
	switch c := p.rng.IntN(100); {
	case c < 8:
		m.SetTime(m.TimeMs() + int64(p.rng.IntN(400)))
		fmt.Fprintf(out, "tick %+v\n", m.Tick())
	case c < 10:
		eff, st, why := m.PostGibb("person"+fmt.Sprint(p.rng.IntN(3)), gibbTexts[p.rng.IntN(len(gibbTexts))])
		fmt.Fprintf(out, "person %+v %s %s\n", eff, st, why)
	case c < 14 && len(p.pending) > 0:
		i := p.rng.IntN(len(p.pending))
		if p.pending[i].DueMs <= m.TimeMs() {
			fmt.Fprintf(out, "harvest %+v\n", m.Harvest(p.pending[i]))
			p.pending = append(p.pending[:i], p.pending[i+1:]...)
		}
	default:
		p.orders++
		o := Order{Trader: p.traders[p.rng.IntN(len(p.traders))], ID: fmt.Sprint("o", p.orders)}
		switch k := p.rng.IntN(20); {
		case k < 5:
			o.Kind, o.Qty = KindBuy, int64(p.rng.IntN(8))
		case k < 10:
			o.Kind, o.Qty = KindSell, int64(p.rng.IntN(8))
		case k < 15:
			o.Kind, o.Qty = KindFeed, int64(p.rng.IntN(8))
		case k < 18:
			o.Kind, o.Coins = KindInvest, Micro(p.rng.Int64N(int64(Coins(6))))
		case k < 19:
			o.Kind, o.Text = KindGibb, gibbTexts[p.rng.IntN(len(gibbTexts))]
		default:
			o.Kind, o.Invalid = KindBuy, "quantity \"x\" is not a whole number"
		}
		r := m.Apply(o)
		if r.Plantation != nil {
			p.pending = append(p.pending, *r.Plantation)
		}
		plantation, gibb := r.Plantation, r.Gibb
		r.Plantation, r.Gibb = nil, nil // print what they point to, not where
		fmt.Fprintf(out, "order %+v", r)
		if plantation != nil {
			fmt.Fprintf(out, " plantation %+v", *plantation)
		}
		if gibb != nil {
			fmt.Fprintf(out, " gibb %+v", *gibb)
		}
		out.WriteString("\n")
	}
}

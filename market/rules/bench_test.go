package rules

import (
	"fmt"
	"testing"
)

// benchConfig lets every order through: a large order allowance so that buckets never
// limit, and deep pockets so that buys never run out of coins.
var benchConfig = Config{Seed: 1, MaxOrdersPerTick: 1_000_000_000, InitialCoins: Coins(1_000_000_000)}

// BenchmarkApplyOrder rotates through 1,000 traders with a buy 2, sell 1, feed 1 cycle
// (shares stay level, every order is accepted) and publishes a tick every 10,000 orders.
func BenchmarkApplyOrder(b *testing.B) {
	const traders = 1000
	m := NewMarket(benchConfig)
	orders := make([]Order, 0, 3*traders)
	for i := 0; i < traders; i++ {
		name := fmt.Sprintf("trader-%04d", i)
		m.AddTrader(name)
		orders = append(orders,
			Order{Trader: name, ID: "b", Kind: KindBuy, Qty: 2},
			Order{Trader: name, ID: "s", Kind: KindSell, Qty: 1},
			Order{Trader: name, ID: "f", Kind: KindFeed, Qty: 1})
	}
	_ = m.SetPhase(PhaseOpen)
	m.Tick()
	b.ReportAllocs()
	b.ResetTimer()
	rejected := 0
	for i := 0; i < b.N; i++ {
		if i%10_000 == 0 {
			m.Tick()
		}
		if m.Apply(orders[i%len(orders)]).Status != StatusAccepted {
			rejected++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	if rejected > 0 {
		b.Fatalf("%d orders refused; the benchmark measures accepted orders", rejected)
	}
}

// BenchmarkTick publishes ticks of a market with 100 traders and a burst running now and
// then (a 100-coin gibb every 100 ticks).
func BenchmarkTick(b *testing.B) {
	m := NewMarket(Config{Seed: 1})
	for i := 0; i < 100; i++ {
		m.AddTrader(fmt.Sprintf("trader-%03d", i))
	}
	_ = m.SetPhase(PhaseOpen)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%100 == 0 {
			m.hype = Coins(100)
			m.applyGibb("ann", "banana up")
		}
		m.Tick()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}

// BenchmarkInvest applies accepted invest orders of 100 traders (the plantation and its
// draw included) and harvests each at once.
func BenchmarkInvest(b *testing.B) {
	m := NewMarket(benchConfig)
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("trader-%03d", i)
		m.AddTrader(names[i])
	}
	_ = m.SetPhase(PhaseOpen)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := m.Apply(Order{Trader: names[i%len(names)], ID: "o", Kind: KindInvest, Coins: Coins(1)})
		if r.Status != StatusAccepted {
			b.Fatalf("invest refused: %s", r.Reason)
		}
		m.Harvest(*r.Plantation)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invests/s")
}

// BenchmarkGibbPoints scores a typical gibb.
func BenchmarkGibbPoints(b *testing.B) {
	g := NewGibbScorer(Config{})
	text := "I love #banana #mktd6, up up and away! 🍌 Bananas are a SAFE bet, no bubble here"
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		g.Points(text)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "gibbs/s")
}

package strategy

import (
	"math/rand/v2"

	"github.com/monkonomy/monkonomy/market/rules"
)

// one is 1.000000 as a Micro: the forecast's "no change".
const one = rules.MicrosPerCoin

func init() {
	// The event's sample bot: feeds one monkey at the start, buys when the forecast says up
	// (F > 1), sells otherwise, and invests all its coins but a few at most once per interval.
	register(&Builtin{
		Name: "classic",
		Params: []Param{
			{"qty", "1"},           // shares bought or sold per tick
			{"keep", "1"},          // coins kept when investing
			{"invest-every", "1s"}, // least market time between two investments
		},
		new: func(p *paramReader) Strategy {
			return &classic{
				qty:   p.Int("qty", 1),
				keep:  p.Coins("keep"),
				every: p.Duration("invest-every", 0).Milliseconds(),
			}
		},
	})
	// Follows the trend: buys when the price rose by more than a threshold over a window of
	// ticks, sells when it fell, and feeds its spare shares regularly.
	register(&Builtin{
		Name: "momentum",
		Params: []Param{
			{"window", "5"},        // ticks between the two prices compared
			{"threshold", "0.002"}, // relative change that counts as a trend
			{"qty", "1"},           // shares bought or sold per signal
			{"feed-every", "10"},   // ticks between two feedings (0: never feed)
			{"keep-shares", "1"},   // shares never sold nor fed
		},
		new: func(p *paramReader) Strategy {
			return &momentum{
				window:    int(p.Int("window", 1)),
				threshold: p.Fraction("threshold", 0, 1),
				qty:       p.Int("qty", 1),
				feed:      readFeeding(p),
			}
		},
	})
	// Bets on a return to the average: buys when the price is below its moving average by
	// more than a band, sells when above, and feeds its spare shares regularly.
	register(&Builtin{
		Name: "mean-reversion",
		Params: []Param{
			{"window", "20"},     // ticks in the moving average
			{"band", "0.01"},     // relative distance from the average that triggers a trade
			{"qty", "1"},         // shares bought or sold per signal
			{"feed-every", "10"}, // ticks between two feedings (0: never feed)
			{"keep-shares", "1"}, // shares never sold nor fed
		},
		new: func(p *paramReader) Strategy {
			return &meanReversion{
				window: int(p.Int("window", 1)),
				band:   p.Fraction("band", 0, 1),
				qty:    p.Int("qty", 1),
				feed:   readFeeding(p),
			}
		},
	})
	// Turns everything into monkeys: feeds every share above a reserve each tick, plants part
	// of its spare coins when nothing is in flight, and buys shares with the rest.
	register(&Builtin{
		Name: "feeder",
		Params: []Param{
			{"reserve-shares", "1"}, // shares always kept (a trader with shares is never bailed out)
			{"reserve-coins", "1"},  // coins always kept
			{"max-buy", "5"},        // most shares bought per tick
			{"invest", "0.5"},       // share of the spare coins planted when nothing is in flight (0: never invest)
		},
		new: func(p *paramReader) Strategy {
			return &feeder{
				reserveShares: p.Int("reserve-shares", 0),
				reserveCoins:  p.Coins("reserve-coins"),
				maxBuy:        p.Int("max-buy", 0),
				invest:        p.Fraction("invest", 0, 1),
			}
		},
	})
	// Plays at random, from a seed: the same seed and ticks give the same orders. A sparring
	// partner, not a winner.
	register(&Builtin{
		Name: "random",
		Params: []Param{
			{"seed", "1"},    // seed of the random choices
			{"p", "0.5"},     // chance of sending an order at each tick
			{"max-qty", "3"}, // most shares per order
		},
		new: func(p *paramReader) Strategy {
			seed := p.Uint("seed")
			return &random{
				rng:    rand.New(rand.NewPCG(seed, 0x6d6f6e6b6579)),
				p:      p.Fraction("p", 0, 1),
				maxQty: p.Int("max-qty", 1),
			}
		},
	})
}

// affordable is how many shares coins buy at price (0 when the price is unknown).
func affordable(coins, price rules.Micro) int64 {
	if price <= 0 || coins <= 0 {
		return 0
	}
	return int64(coins / price)
}

type classic struct {
	qty        int64
	keep       rules.Micro
	every      int64 // ms
	fed        bool
	invested   bool
	lastInvest int64 // market time of the last investment, ms
}

func (c *classic) OnTick(t rules.Tick, a rules.Account) []Action {
	var out []Action
	coins, shares := a.Coins, a.Shares
	if !c.fed && shares > 0 {
		c.fed = true
		out = append(out, Feed(1))
		shares--
	}
	if t.Forecast > one {
		if cost := rules.Micro(c.qty) * t.Price; cost <= coins {
			out = append(out, Buy(c.qty))
			coins -= cost
		}
	} else if shares >= c.qty {
		out = append(out, Sell(c.qty))
		coins += rules.Micro(c.qty) * t.Price
	}
	if coins > c.keep && (!c.invested || t.TimeMs-c.lastInvest >= c.every) {
		out = append(out, Invest(coins-c.keep))
		c.invested, c.lastInvest = true, t.TimeMs
	}
	return out
}

// feeding is how momentum and mean-reversion act on their signal: trade, then feed the
// shares above a reserve every so many ticks.
type feeding struct {
	every int64
	keep  int64
}

func readFeeding(p *paramReader) feeding {
	return feeding{every: p.Int("feed-every", 0), keep: p.Int("keep-shares", 0)}
}

// follow buys or sells qty shares on signal (+1 buy, −1 sell, 0 nothing) when the account
// allows it, keeping f.keep shares, then feeds the shares still held above them when it
// is time. A buy's shares are not held yet: they are fed at a later tick.
func (f feeding) follow(signal int, qty int64, t rules.Tick, a rules.Account) []Action {
	var out []Action
	shares := a.Shares
	switch {
	case signal > 0 && rules.Micro(qty)*t.Price <= a.Coins:
		out = append(out, Buy(qty))
	case signal < 0 && shares-qty >= f.keep:
		out = append(out, Sell(qty))
		shares -= qty
	}
	if f.every != 0 && t.Seq%f.every == 0 && shares > f.keep {
		out = append(out, Feed(shares-f.keep))
	}
	return out
}

type momentum struct {
	window    int
	threshold float64
	qty       int64
	feed      feeding
	prices    []rules.Micro // the last window+1 prices
}

func (m *momentum) OnTick(t rules.Tick, a rules.Account) []Action {
	m.prices = append(m.prices, t.Price)
	if len(m.prices) > m.window+1 {
		m.prices = m.prices[1:]
	}
	signal := 0
	if len(m.prices) == m.window+1 && m.prices[0] > 0 {
		change := float64(t.Price)/float64(m.prices[0]) - 1
		if change > m.threshold {
			signal = 1
		} else if change < -m.threshold {
			signal = -1
		}
	}
	return m.feed.follow(signal, m.qty, t, a)
}

type meanReversion struct {
	window int
	band   float64
	qty    int64
	feed   feeding
	prices []rules.Micro
	sum    rules.Micro
}

func (m *meanReversion) OnTick(t rules.Tick, a rules.Account) []Action {
	m.prices = append(m.prices, t.Price)
	m.sum += t.Price
	if len(m.prices) > m.window {
		m.sum -= m.prices[0]
		m.prices = m.prices[1:]
	}
	signal := 0
	if len(m.prices) == m.window {
		mean := float64(m.sum) / float64(m.window)
		p := float64(t.Price)
		if p < mean*(1-m.band) {
			signal = 1
		} else if p > mean*(1+m.band) {
			signal = -1
		}
	}
	return m.feed.follow(signal, m.qty, t, a)
}

type feeder struct {
	reserveShares int64
	reserveCoins  rules.Micro
	maxBuy        int64
	invest        float64
}

func (f *feeder) OnTick(t rules.Tick, a rules.Account) []Action {
	var out []Action
	// Feed only the shares already held: a buy of this tick may still be rejected.
	if n := a.Shares - f.reserveShares; n > 0 {
		out = append(out, Feed(n))
	}
	spare := a.Coins - f.reserveCoins
	if plant := rules.Micro(float64(spare) * f.invest); a.InFlight == 0 && plant > 0 {
		out = append(out, Invest(plant))
		spare -= plant
	}
	if n := min(f.maxBuy, affordable(spare, t.Price)); n > 0 {
		out = append(out, Buy(n))
	}
	return out
}

type random struct {
	rng    *rand.Rand
	p      float64
	maxQty int64
}

func (r *random) OnTick(t rules.Tick, a rules.Account) []Action {
	if r.rng.Float64() >= r.p {
		return nil
	}
	qty := 1 + r.rng.Int64N(r.maxQty)
	switch r.rng.IntN(4) {
	case 0:
		return []Action{Buy(qty)}
	case 1:
		return []Action{Sell(qty)}
	case 2:
		return []Action{Feed(qty)}
	default:
		// Between 1 and 100 % of the coins held, in whole micro-coins.
		if a.Coins <= 0 {
			return nil
		}
		return []Action{Invest(1 + rules.Micro(r.rng.Int64N(int64(a.Coins))))}
	}
}

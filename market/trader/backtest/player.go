// Package backtest plays strategies in-process on market/rules alone, with no Redis and no
// clock: against a recorded game (Backtest: the recorded prices, the strategy's own
// orders applied exactly as the engine would) or against each other on a fresh market
// (Simulate). Both are deterministic: the same inputs give the same output, byte for byte.
package backtest

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// maxReactions bounds the orders a strategy may chain through OnResult and OnGibb within
// one tick, so that a strategy answering every result with a new order cannot loop forever.
const maxReactions = 100

// seat is one trader at the table.
type seat struct {
	name      string
	strategy  strategy.Strategy
	orders    int64 // ids sent so far
	reactions int   // reactions in the current tick
	// onResult, when set, sees every result of this trader (for statistics).
	onResult func(rules.Result)
}

// player applies strategies' actions to a market as the engine does: in order, one result
// per order, plantations harvested when they fall due in market time.
type player struct {
	m        *rules.Market
	penalty  int64 // the market's bailout penalty, for the scores strategies see
	seats    []*seat
	harvests []rules.Plantation // pending, in due order
	onGibb   func(rules.GibbEffect)
}

func newPlayer(m *rules.Market) *player { return &player{m: m, penalty: m.Config().BailoutPenalty} }

func (p *player) add(name string, s strategy.Strategy) (*seat, error) {
	if !p.m.AddTrader(name) {
		return nil, fmt.Errorf("trader %q plays twice: give every bot its own name", name)
	}
	st := &seat{name: name, strategy: s}
	p.seats = append(p.seats, st)
	return st, nil
}

// advance moves market time to ms, harvesting every plantation due by then at its due time.
func (p *player) advance(ms int64) {
	for len(p.harvests) > 0 && p.harvests[0].DueMs <= ms {
		h := p.harvests[0]
		p.harvests = p.harvests[1:]
		p.m.SetTime(h.DueMs)
		r := p.m.Harvest(h)
		if st := p.seat(h.Trader); st != nil {
			p.deliver(st, r)
		}
	}
	p.m.SetTime(ms)
}

func (p *player) seat(name string) *seat {
	for _, st := range p.seats {
		if st.name == name {
			return st
		}
	}
	return nil
}

// tick shows tick t to every seat with its account and score, starting with seat first and
// going round, and applies their orders.
func (p *player) tick(t rules.Tick, first int) {
	for _, st := range p.seats {
		st.reactions = 0
	}
	n := len(p.seats)
	for i := range n {
		st := p.seats[(first+i)%n]
		a, _ := p.m.Account(st.name)
		p.send(st, strategy.Tick(st.strategy, t, a, a.Score(p.penalty)))
	}
}

// send applies actions of a seat in order.
func (p *player) send(st *seat, actions []strategy.Action) {
	for _, act := range actions {
		st.orders++
		r := p.m.Apply(act.Order(st.name, fmt.Sprintf("%s-%d", st.name, st.orders)))
		if r.Plantation != nil {
			p.plant(*r.Plantation)
		}
		p.deliver(st, r)
		if r.Gibb != nil {
			p.gibb(*r.Gibb)
		}
	}
}

func (p *player) plant(pl rules.Plantation) {
	i, _ := slices.BinarySearchFunc(p.harvests, pl, func(a, b rules.Plantation) int {
		return cmp.Compare(a.DueMs, b.DueMs)
	})
	// After every plantation due at the same time: harvests come in the order they were planted.
	for i < len(p.harvests) && p.harvests[i].DueMs == pl.DueMs {
		i++
	}
	p.harvests = slices.Insert(p.harvests, i, pl)
}

// deliver hands a result to its trader's strategy and sends what it answers.
func (p *player) deliver(st *seat, r rules.Result) {
	if st.onResult != nil {
		st.onResult(r)
	}
	if h, ok := st.strategy.(strategy.ResultHandler); ok {
		p.react(st, h.OnResult(r))
	}
}

// gibb shows an applied gibb to every strategy that reads the feed.
func (p *player) gibb(g rules.GibbEffect) {
	if p.onGibb != nil {
		p.onGibb(g)
	}
	for _, st := range p.seats {
		if h, ok := st.strategy.(strategy.GibbHandler); ok {
			p.react(st, h.OnGibb(g))
		}
	}
}

func (p *player) react(st *seat, actions []strategy.Action) {
	if len(actions) == 0 {
		return
	}
	if st.reactions+len(actions) > maxReactions {
		actions = actions[:max(0, maxReactions-st.reactions)]
	}
	st.reactions += len(actions)
	p.send(st, actions)
}

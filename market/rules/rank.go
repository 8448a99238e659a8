package rules

import (
	"cmp"
	"math"
	"slices"
)

// Standings returns every trader ranked by Rank at the latest price; team names the team of
// a trader (may be nil).
func (m *Market) Standings(team func(trader string) string) []Standing {
	s := make([]Standing, 0, len(m.names))
	for _, name := range m.names {
		a := m.accounts[name]
		st := Standing{
			Trader:   name,
			Score:    a.Score(m.cfg.BailoutPenalty),
			NetWorth: NetWorth(*a, m.last.Price),
			ScoredAt: a.ScoredAt,
		}
		if team != nil {
			st.Team = team(name)
		}
		s = append(s, st)
	}
	Rank(s)
	return s
}

// NetWorth is coins + shares × price, stopping at the bounds of int64.
func NetWorth(a Account, price Micro) Micro {
	v := mulSat(a.Shares, price)
	return addSat(a.Coins, v)
}

func mulSat(n int64, p Micro) Micro {
	if n == 0 || p == 0 {
		return 0
	}
	v := Micro(n) * p
	if v/p != Micro(n) || (n == -1 && p == math.MinInt64) || (p == -1 && n == math.MinInt64) {
		if (n < 0) != (p < 0) {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return v
}

// Rank sorts standings by the rules' order — score, highest first; then net worth, highest
// first; then who reached the score first (lower ScoredAt); then name — and numbers them
// 1, 2, 3, … with no gaps. It needs nothing but the standings, so anyone holding them (the
// operator reading them from Redis) ranks exactly as the engine does.
func Rank(s []Standing) {
	slices.SortStableFunc(s, func(a, b Standing) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			cmp.Compare(b.NetWorth, a.NetWorth),
			cmp.Compare(a.ScoredAt, b.ScoredAt),
			cmp.Compare(a.Trader, b.Trader),
		)
	})
	for i := range s {
		s[i].Rank = i + 1
	}
}

package backtest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/monkonomy/monkonomy/market/rules"
	"github.com/monkonomy/monkonomy/market/trader/strategy"
)

// SimOptions describe a simulated game.
type SimOptions struct {
	// Ticks is the length of the game [300].
	Ticks int
	// Seed decides the price path, the crowd's gibbs and the random bots.
	Seed uint64
	// Bots are built-in strategy names; a name may appear more than once [every built-in].
	Bots []string
	// Gibbs is how many gibbs the crowd posts during the game [4].
	Gibbs int
	// Config is the market's rules; its Seed is replaced by Seed.
	Config rules.Config
}

// crowdGibbs are what the crowd posts in a simulation: some hype, some gloom.
var crowdGibbs = []string{
	"Bananas to the moon! #mktd",
	"banana up up up, buy buy buy",
	"this banana market is a bubble, sell before it bursts",
	"good, solid, sweet banana shares #mktd",
	"bad news for banana plantations: worst harvest, high risk",
	"i love banana. thanks monkeys",
}

// SimResult is the outcome of a simulated game.
type SimResult struct {
	Seed      uint64
	Ticks     int
	First     rules.Tick // the first tick
	Last      rules.Tick // the last tick
	Low, High rules.Micro
	Gibbs     []rules.GibbEffect
	Standings []rules.Standing
	Accounts  map[string]rules.Account
}

// Simulate plays the bots against each other for the given number of ticks.
func Simulate(opts SimOptions) (*SimResult, error) {
	if opts.Ticks == 0 {
		opts.Ticks = 300
	}
	if opts.Ticks < 0 {
		return nil, fmt.Errorf("a simulation needs at least 1 tick, not %d", opts.Ticks)
	}
	if len(opts.Bots) == 0 {
		opts.Bots = strategy.Names()
	}
	if opts.Gibbs == 0 {
		opts.Gibbs = 4
	}
	cfg := opts.Config
	cfg.Seed = opts.Seed
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("market rules: %w", err)
	}
	m := rules.NewMarket(cfg)
	p := newPlayer(m)
	teams := map[string]string{}
	seen := map[string]int{}
	for i, bot := range opts.Bots {
		params := strategy.Params{}
		if bot == "random" {
			// Each random bot plays its own dice, all from the simulation's seed.
			params["seed"] = strconv.FormatUint(opts.Seed*1000+uint64(i), 10)
		}
		s, err := strategy.New(bot, params)
		if err != nil {
			return nil, err
		}
		seen[bot]++
		name := bot
		if seen[bot] > 1 {
			name = fmt.Sprintf("%s-%d", bot, seen[bot])
		}
		if _, err := p.add(name, s); err != nil {
			return nil, err
		}
		teams[name] = bot
	}
	res := &SimResult{Seed: opts.Seed, Ticks: opts.Ticks, Accounts: map[string]rules.Account{}}
	p.onGibb = func(g rules.GibbEffect) { res.Gibbs = append(res.Gibbs, g) }
	if err := m.SetPhase(rules.PhaseOpen); err != nil {
		return nil, err
	}

	// The crowd posts at evenly spread ticks, texts drawn from the seed.
	order := rand.New(rand.NewPCG(opts.Seed, 0x67696262)).Perm(len(crowdGibbs))
	crowd := map[int]string{}
	for k := 1; k <= opts.Gibbs; k++ {
		crowd[k*opts.Ticks/(opts.Gibbs+1)] = crowdGibbs[order[(k-1)%len(order)]]
	}

	interval := cfg.TickInterval.Milliseconds()
	for n := 1; n <= opts.Ticks; n++ {
		p.advance(int64(n-1) * interval)
		t := m.Tick()
		if n == 1 {
			res.First, res.Low, res.High = t, t.Price, t.Price
		}
		res.Last = t
		res.Low, res.High = min(res.Low, t.Price), max(res.High, t.Price)
		p.tick(t, n)
		if text, ok := crowd[n]; ok {
			if g, status, _ := m.PostGibb("crowd", text); status == rules.StatusAccepted {
				p.gibb(g)
			}
		}
	}
	p.advance(int64(opts.Ticks) * interval)
	res.Standings = m.Standings(func(trader string) string { return teams[trader] })
	m.Accounts(func(trader string, a rules.Account) { res.Accounts[trader] = a })
	return res, nil
}

// Write prints the game's summary and final ranking as a table.
func (r *SimResult) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Simulated %d ticks of the banana market (seed %d) with %d bots.\n", r.Ticks, r.Seed, len(r.Standings))
	fmt.Fprintf(&b, "Price went from %s to %s (low %s, high %s).\n", r.First.Price, r.Last.Price, r.Low, r.High)
	if len(r.Gibbs) > 0 {
		fmt.Fprintf(&b, "\nGibbs:\n")
		for _, g := range r.Gibbs {
			burst := ""
			if g.Burst {
				burst = "  — the bubble starts to burst"
			}
			fmt.Fprintf(&b, "  tick %4d  %-10s %-58q %+5d points, hype %s%s\n", g.Tick, g.Author, g.Text, g.Points, g.Hype, burst)
		}
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return WriteStandings(w, r.Standings, r.Accounts)
}

// WriteStandings prints a ranking table: rank, trader, strategy, score, monkeys fed,
// coins, shares, bailouts, plantations in flight.
func WriteStandings(w io.Writer, standings []rules.Standing, accounts map[string]rules.Account) error {
	rows := [][]string{{"RANK", "TRADER", "STRATEGY", "SCORE", "FED", "COINS", "SHARES", "BAILOUTS", "IN FLIGHT"}}
	for _, s := range standings {
		a := accounts[s.Trader]
		rows = append(rows, []string{
			strconv.Itoa(s.Rank), s.Trader, s.Team, strconv.FormatInt(s.Score, 10), strconv.FormatInt(a.Fed, 10),
			a.Coins.String(), strconv.FormatInt(a.Shares, 10), strconv.FormatInt(a.Bailouts, 10), strconv.FormatInt(a.InFlight, 10),
		})
	}
	_, err := io.WriteString(w, table(rows, map[int]bool{1: true, 2: true}))
	return err
}

// table lays rows out in columns two spaces apart: numbers right-aligned, the columns in
// left left-aligned.
func table(rows [][]string, left map[int]bool) string {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if left[i] {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return b.String()
}

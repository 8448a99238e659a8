package arena

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/monkonomy/monkonomy/market/engine"
)

// Board prints the leaderboard to a terminal or a log. On a terminal it redraws itself in
// place (ANSI cursor movement); anywhere else it prints a plain block every Every ticks, so
// that a log or a pipe stays readable.
type Board struct {
	w        io.Writer
	terminal bool
	every    int64
	width    int   // the terminal's columns; longer lines are cut so none wraps
	drawn    int   // lines of the last drawing, on a terminal
	lastTick int64 // tick of the last plain block
}

// NewBoard returns a board writing to w; terminal says whether w is a terminal. A plain
// board prints a block every `every` ticks (at least 1).
func NewBoard(w io.Writer, terminal bool, every int64) *Board {
	if every < 1 {
		every = 1
	}
	return &Board{w: w, terminal: terminal, every: every, lastTick: -1}
}

// Update shows the market's latest state: at once on a terminal, every few ticks otherwise.
func (b *Board) Update(m engine.MarketInfo, s []engine.Standing) {
	if b.terminal {
		b.redraw(FormatBoard(m, s, false), true)
		return
	}
	if m.Tick == 0 || (b.lastTick >= 0 && m.Tick-b.lastTick < b.every) {
		return
	}
	b.lastTick = m.Tick
	fmt.Fprintln(b.w, strings.Join(FormatBoard(m, s, false), "\n"))
	fmt.Fprintln(b.w)
}

// Final prints the final ranking, replacing the live board on a terminal.
func (b *Board) Final(m engine.MarketInfo, s []engine.Standing) {
	lines := FormatBoard(m, s, true)
	if b.terminal {
		// Printed once and kept: whole lines, even if the terminal wraps them.
		b.redraw(lines, false)
		b.drawn = 0
		return
	}
	fmt.Fprintln(b.w, strings.Join(lines, "\n"))
}

// redraw moves the cursor back over the previous drawing and writes the new one over it,
// clearing what is left of each line and anything below; clip cuts lines at the width.
func (b *Board) redraw(lines []string, clip bool) {
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dF", b.drawn)
	}
	for _, l := range lines {
		// A wrapped line would take two rows and throw the next redraw off by one.
		if clip && b.width > 1 && utf8.RuneCountInString(l) >= b.width {
			l = string([]rune(l)[:b.width-1])
		}
		sb.WriteString(l)
		sb.WriteString("\x1b[K\n")
	}
	sb.WriteString("\x1b[J")
	io.WriteString(b.w, sb.String())
	b.drawn = len(lines)
}

// FormatBoard lays out the market's header and its ranking as lines of text.
func FormatBoard(m engine.MarketInfo, s []engine.Standing, final bool) []string {
	var lines []string
	title := "Leaderboard"
	if final {
		title = "Final ranking"
	}
	head := fmt.Sprintf("%s of %s: tick %d, price %s, hype %s, %s", title, m.Market, m.Tick,
		shortAmount(m.Price, 4), shortAmount(m.Hype, 2), m.Phase)
	if d, err := time.ParseDuration(m.Duration); err == nil && d > 0 && !final {
		left := max(d-time.Duration(m.MarketTimeMs)*time.Millisecond, 0)
		head += ", " + clock(left) + " left"
	} else if m.MarketTimeMs > 0 {
		head += ", played " + clock(time.Duration(m.MarketTimeMs)*time.Millisecond)
	}
	lines = append(lines, head)
	if len(s) == 0 {
		return append(lines, "  no traders yet")
	}
	teamW, traderW := len("TEAM"), len("TRADER")
	for _, r := range s {
		teamW = max(teamW, min(utf8.RuneCountInString(r.Team), 24))
		traderW = max(traderW, min(len(r.Trader), 24))
	}
	row := func(rank, team, trader, score, fed, coins, shares, bail, fly string) string {
		return fmt.Sprintf("%4s  %-*s  %-*s  %5s  %7s  %10s  %6s  %8s  %9s",
			rank, teamW, clip(team, teamW), traderW, clip(trader, traderW), score, fed, coins, shares, bail, fly)
	}
	lines = append(lines, row("RANK", "TEAM", "TRADER", "SCORE", "MONKEYS", "COINS", "SHARES", "BAILOUTS", "IN FLIGHT"))
	for _, r := range s {
		lines = append(lines, row(fmt.Sprint(r.Rank), r.Team, r.Trader, fmt.Sprint(r.Score), fmt.Sprint(r.Fed),
			shortAmount(r.Coins, 2), fmt.Sprint(r.Shares), fmt.Sprint(r.Bailouts), fmt.Sprint(r.InFlight)))
	}
	return lines
}

// shortAmount shows a decimal string with at most `decimals` decimals, cut rather than
// rounded so that it never shows more than the trader has.
func shortAmount(s string, decimals int) string {
	if s == "" {
		return "-"
	}
	whole, frac, ok := strings.Cut(s, ".")
	if !ok {
		return s
	}
	if len(frac) > decimals {
		frac = frac[:decimals]
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func clock(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

package rules

import (
	"bytes"
	"math"
	"unicode"
	"unicode/utf8"
)

// MaxGibbRunes is the longest gibb, in characters (Unicode code points).
const MaxGibbRunes = 280

// HypePerPoint is what one point of a gibb adds to the hype H: 0.01 coins.
const HypePerPoint Micro = 10_000

// burstFactors are s_1 … s_10: step k keeps s_k of the hype a burst still has to remove.
var burstFactors = [10]float64{0.95, 0.90, 0.80, 0.70, 0.70, 0.80, 0.90, 0.95, 1.20, 1.10}

// BurstSteps is the number of steps of a burst.
const BurstSteps = len(burstFactors)

var banana = []byte("banana")

// GibbScorer scores the text of gibbs with one market's words. It is safe for concurrent
// use once made, so a trader runtime or a dashboard can share one.
type GibbScorer struct {
	words map[string]int64
}

// NewGibbScorer returns the scorer of a market playing cfg (zero fields take the defaults).
func NewGibbScorer(cfg Config) *GibbScorer {
	cfg = cfg.WithDefaults()
	g := &GibbScorer{words: make(map[string]int64, len(cfg.Positive)+len(cfg.Negative)+1)}
	for _, w := range cfg.Positive {
		g.words[w] = 1
	}
	for _, w := range cfg.Negative {
		g.words[w] = -1
	}
	g.words[cfg.Hashtag] = 100
	return g
}

// Points returns the points of a gibb's text: 0 unless it contains "banana" in any case;
// otherwise, after lower-casing (Unicode simple case mapping, rune by rune) and deleting
// every character that is neither a–z nor white space, +1 per positive word, −1 per
// negative word and +100 per hashtag word. It does not allocate for texts of at most
// MaxGibbRunes characters.
func (g *GibbScorer) Points(text string) int64 {
	var stack [4 * MaxGibbRunes]byte
	buf := stack[:0]
	if len(text) > MaxGibbRunes {
		if n := utf8.RuneCountInString(text); n > MaxGibbRunes {
			buf = make([]byte, 0, 4*n)
		}
	}
	for _, r := range text {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			buf = append(buf, byte(r))
			continue
		}
		buf = utf8.AppendRune(buf, unicode.ToLower(r))
	}
	if !bytes.Contains(buf, banana) {
		return 0
	}
	// Compact each word's letters in place (w never passes i) and score it at its end.
	var points int64
	start, w := 0, 0
	for i := 0; i <= len(buf); {
		space, size := true, 1
		if i < len(buf) {
			c := buf[i]
			switch {
			case 'a' <= c && c <= 'z':
				buf[w] = c
				w++
				i++
				continue
			case c < utf8.RuneSelf:
				space = c == ' ' || ('\t' <= c && c <= '\r')
			default:
				var r rune
				r, size = utf8.DecodeRune(buf[i:])
				space = unicode.IsSpace(r)
			}
		}
		if space {
			if w > start {
				points += g.words[string(buf[start:w])]
			}
			start = w
		}
		i += size
	}
	return points
}

// gibbTextProblem returns why text cannot be a gibb, or "".
func gibbTextProblem(text string) string {
	switch {
	case text == "":
		return reasonGibbEmpty
	case !utf8.ValidString(text):
		return reasonGibbNotUTF8
	case len(text) > MaxGibbRunes && utf8.RuneCountInString(text) > MaxGibbRunes:
		return reasonGibbTooLong
	}
	return ""
}

const (
	reasonGibbEmpty   = "a gibb needs some text"
	reasonGibbNotUTF8 = "a gibb's text must be valid UTF-8"
	reasonGibbTooLong = "a gibb is at most 280 characters"
)

// burst is a running burst: it started when H was start, has done steps, and does its next
// step at tick next.
type burst struct {
	active bool
	start  Micro
	steps  int
	next   int64
}

// applyGibb adds an accepted gibb to the hype and may start a burst:
// each gibb that changes H starts one, when none is running, with probability
// min(1, max(0, h)/100) for h in coins, drawn from (seed, gibb sequence number).
func (m *Market) applyGibb(author, text string) GibbEffect {
	points := m.scorer.Points(text)
	m.gibbSeq++
	m.eventSeq++
	eff := GibbEffect{Seq: m.gibbSeq, Author: author, Text: text, Points: points, Tick: m.last.Seq}
	if points != 0 {
		m.hype += Micro(points) * HypePerPoint
		if !m.burst.active {
			chance := min(1, max(0, m.hypeInPrice())/(100*float64(MicrosPerCoin)))
			if burstDraw(m.cfg.Seed, m.gibbSeq) < chance {
				m.burst = burst{active: true, start: m.hype, next: m.last.Seq + 1}
				eff.Burst = true
			}
		}
	}
	eff.Hype = Micro(math.RoundToEven(m.hypeInPrice()))
	return eff
}

// stepBurst applies the burst step due at tick n, if any, and returns its number (1–10) or 0:
// step k sets B = B + (V − B) × (1 − s_k), V being H when the burst started.
func (m *Market) stepBurst(n int64) int {
	if !m.burst.active || n < m.burst.next {
		return 0
	}
	k := m.burst.steps
	m.removed += mul(float64(m.burst.start)-m.removed, 1-burstFactors[k])
	m.burst.steps++
	if m.burst.steps == BurstSteps {
		m.burst = burst{}
	} else {
		m.burst.next += int64(m.cfg.BurstStepTicks)
	}
	return k + 1
}

// GibbLimit counts the gibbs of one person during one tick.
type GibbLimit struct {
	Tick  int64 `json:"tick"`
	Count int64 `json:"count"`
}

// PostGibb applies a person's gibb (from the dashboard or the CLI). A refused gibb (market
// not open, no author, empty, too long, over the author's limit) returns its status and
// reason and changes nothing.
func (m *Market) PostGibb(author, text string) (GibbEffect, Status, string) {
	switch {
	case m.phase == PhasePaused:
		return GibbEffect{}, StatusMarketPaused, reasonPaused
	case m.phase != PhaseOpen:
		return GibbEffect{}, StatusMarketClosed, m.closedReason()
	case author == "":
		return GibbEffect{}, StatusInvalid, "a gibb needs an author"
	}
	if why := gibbTextProblem(text); why != "" {
		return GibbEffect{}, StatusInvalid, why
	}
	lim := m.persons[author]
	if lim.Tick != m.last.Seq {
		lim = GibbLimit{Tick: m.last.Seq}
	}
	if lim.Count >= int64(m.cfg.MaxGibbsPerTick) {
		return GibbEffect{}, StatusRateLimited, m.reasonGibbLimited
	}
	lim.Count++
	m.persons[author] = lim
	return m.applyGibb(author, text), StatusAccepted, ""
}

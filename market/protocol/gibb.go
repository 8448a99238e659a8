package protocol

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/monkonomy/monkonomy/market/rules"
)

// Gibb is an entry of the public gibbs feed, and a line of gibbs.jsonl (`monkonomy export`),
// which the backtester reads. In JSON, amounts are decimal strings:
//
//	{"seq":3,"author":"t1","text":"banana up #mktd","points":101,"hype":"1.010000",
//	 "tick":12,"burst":false,"time":"2026-01-02T15:04:05.000Z"}
type Gibb struct {
	Seq    int64  // gibb sequence number, from 1
	Author string // a trader's name, or a person's name
	Text   string
	Points int64
	Hype   rules.Micro // the hype in the price after this gibb
	Tick   int64       // the tick during which it was posted
	Burst  bool        // this gibb started a burst
	Time   time.Time
}

// GibbFromRules is the published form of an applied gibb at wall-clock time t.
func GibbFromRules(g rules.GibbEffect, at time.Time) Gibb {
	return Gibb{Seq: g.Seq, Author: g.Author, Text: g.Text, Points: g.Points, Hype: g.Hype,
		Tick: g.Tick, Burst: g.Burst, Time: at}
}

// Rules is the gibb as the rules' GibbEffect that strategies see.
func (g Gibb) Rules() rules.GibbEffect {
	return rules.GibbEffect{Seq: g.Seq, Author: g.Author, Text: g.Text, Points: g.Points, Hype: g.Hype,
		Tick: g.Tick, Burst: g.Burst}
}

// AppendGibb appends the field/value pairs of a gibbs feed entry to args, ready for XADD.
func AppendGibb(args []any, g Gibb) []any {
	burst := "0"
	if g.Burst {
		burst = "1"
	}
	return append(args,
		FieldVersion, Version,
		FieldSeq, g.Seq,
		FieldAuthor, g.Author,
		FieldText, g.Text,
		FieldPoints, g.Points,
		FieldHype, FormatMicro(g.Hype),
		FieldTick, g.Tick,
		FieldBurst, burst,
		FieldTime, FormatTime(g.Time),
	)
}

// DecodeGibb reads an entry of the gibbs feed.
func DecodeGibb(m redis.XMessage) (Gibb, error) {
	f := fields(m.Values)
	g := Gibb{Author: f.str(FieldAuthor), Text: f.str(FieldText), Burst: f.str(FieldBurst) == "1"}
	if err := checkVersion(f); err != nil {
		return g, err
	}
	var err error
	if g.Seq, err = f.int(FieldSeq); err != nil {
		return g, fmt.Errorf("gibb %s: %w", m.ID, err)
	}
	if g.Points, err = f.int(FieldPoints); err != nil {
		return g, fmt.Errorf("gibb %s: %w", m.ID, err)
	}
	if g.Hype, err = f.micro(FieldHype); err != nil {
		return g, fmt.Errorf("gibb %s: %w", m.ID, err)
	}
	if g.Tick, err = f.int(FieldTick); err != nil {
		return g, fmt.Errorf("gibb %s: %w", m.ID, err)
	}
	if g.Time, err = f.time(FieldTime); err != nil {
		return g, fmt.Errorf("gibb %s: %w", m.ID, err)
	}
	return g, nil
}

// gibbJSON is the JSON form of a Gibb.
type gibbJSON struct {
	Seq    int64  `json:"seq"`
	Author string `json:"author"`
	Text   string `json:"text"`
	Points int64  `json:"points"`
	Hype   string `json:"hype"`
	Tick   int64  `json:"tick"`
	Burst  bool   `json:"burst"`
	Time   string `json:"time"`
}

func (g Gibb) MarshalJSON() ([]byte, error) {
	return json.Marshal(gibbJSON{Seq: g.Seq, Author: g.Author, Text: g.Text, Points: g.Points,
		Hype: FormatMicro(g.Hype), Tick: g.Tick, Burst: g.Burst, Time: FormatTime(g.Time)})
}

func (g *Gibb) UnmarshalJSON(b []byte) error {
	var j gibbJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("gibb: %w", err)
	}
	f := fields{FieldHype: j.Hype, FieldTime: j.Time}
	*g = Gibb{Seq: j.Seq, Author: j.Author, Text: j.Text, Points: j.Points, Tick: j.Tick, Burst: j.Burst}
	var err error
	if g.Hype, err = f.micro(FieldHype); err != nil {
		return fmt.Errorf("gibb %d: %w", j.Seq, err)
	}
	if g.Time, err = f.time(FieldTime); err != nil {
		return fmt.Errorf("gibb %d: %w", j.Seq, err)
	}
	return nil
}

// PostGibb is the body of POST /api/gibbs: a person's gibb.
type PostGibb struct {
	Author string `json:"author"`
	Text   string `json:"text"`
}

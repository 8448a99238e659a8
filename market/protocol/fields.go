package protocol

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/monkonomy/monkonomy/market/rules"
)

// Field names of stream entries. Every entry carries FieldVersion.
const (
	FieldVersion = "v"

	// orders:<trader> and inbox
	FieldID     = "id"
	FieldKind   = "kind"
	FieldQty    = "qty"
	FieldCoins  = "coins"
	FieldText   = "text"
	FieldAuthor = "author"
	FieldPhase  = "phase"

	// results:<trader>
	FieldOrder    = "order"
	FieldStatus   = "status"
	FieldReason   = "reason"
	FieldTick     = "tick"
	FieldPrice    = "price"
	FieldShares   = "shares"
	FieldFed      = "fed"
	FieldBailouts = "bailouts"
	FieldInFlight = "inflight"
	FieldScore    = "score"
	FieldCredit   = "credit"

	// ticks and gibbs
	FieldSeq      = "seq"
	FieldForecast = "forecast"
	FieldEMA      = "ema"
	FieldHype     = "hype"
	FieldBurst    = "burst"
	FieldTime     = "time"
	FieldMarketMs = "mt"
	FieldPoints   = "points"

	// journal
	FieldBatch  = "batch"
	FieldEvents = "events"
)

// Size limits of wire fields. They keep one entry small whatever a client sends.
const (
	MaxIDLen       = 64   // an order id: 1–64 of A–Z a–z 0–9 . _ : -
	MaxTextRunes   = 280  // a gibb's text, in characters
	MaxTextBytes   = 1024 // a gibb's text, in bytes
	MaxAmountBytes = 32   // a qty or coins field
	MaxNameBytes   = 64   // a person's name on a gibb
	MaxEntryFields = 8    // fields of one order or inbox entry
)

// TimeFormat is how times travel: RFC 3339 with milliseconds, in UTC.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes t as TimeFormat in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ValidID reports whether s is a valid order id.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// CheckText checks a gibb's text against the size limits of the wire. Whether the text is
// empty or too long for the rules is for the rules to say.
func CheckText(s string) error {
	if len(s) > MaxTextBytes {
		return fmt.Errorf("text is %d bytes, more than %d", len(s), MaxTextBytes)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > MaxTextRunes {
		return fmt.Errorf("text is %d characters, more than %d", n, MaxTextRunes)
	}
	return nil
}

// CheckAuthor checks a person's name on a gibb.
func CheckAuthor(s string) error {
	if s == "" {
		return fmt.Errorf("author is empty")
	}
	if len(s) > MaxNameBytes || !utf8.ValidString(s) {
		return fmt.Errorf("author must be valid UTF-8 of at most %d bytes", MaxNameBytes)
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("author contains a control character")
		}
	}
	return nil
}

// fieldString returns a field's value as a string; go-redis hands stream values over as
// strings, other clients may use []byte.
func fieldString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

// fields is a decoded entry's string values, for decoders of entries the engine writes.
type fields map[string]any

func (f fields) str(name string) string {
	s, _ := fieldString(f[name])
	return s
}

func (f fields) int(name string) (int64, error) {
	s := f.str(name)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %s: %q is not an integer", name, s)
	}
	return v, nil
}

func (f fields) micro(name string) (rules.Micro, error) {
	s := f.str(name)
	v, err := parseMicro(s)
	if err != nil {
		return 0, fmt.Errorf("field %s: %w", name, err)
	}
	return v, nil
}

func (f fields) time(name string) (time.Time, error) {
	s := f.str(name)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %s: %q is not an RFC 3339 time", name, s)
	}
	return t, nil
}

func checkVersion(f fields) error {
	v, ok := f[FieldVersion]
	if !ok {
		return nil
	}
	if s, _ := fieldString(v); s != Version {
		return fmt.Errorf("protocol version %q is not supported, use %q", s, Version)
	}
	return nil
}

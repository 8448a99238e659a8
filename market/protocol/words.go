package protocol

import (
	"github.com/monkonomy/monkonomy/market/rules"
)

// kindWord is the word of a kind; an order whose kind could not be read has none.
func kindWord(k rules.Kind) string {
	if k < rules.KindBuy || k > rules.KindHarvest {
		return ""
	}
	return k.String()
}

// parseMicro and appendMicro are the rules' decimal codec: amounts are exact decimal strings
// with 6 decimals.
func parseMicro(s string) (rules.Micro, error) { return rules.ParseMicro(s) }

func appendMicro(b []byte, m rules.Micro) []byte { return rules.AppendMicro(b, m) }

// FormatMicro writes an amount as a decimal string with 6 decimals ("12.345600").
func FormatMicro(m rules.Micro) string { return m.String() }

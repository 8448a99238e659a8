package rules

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParseMicroAcceptsDecimalAmounts(t *testing.T) {
	for in, want := range map[string]Micro{
		"12":                    12_000_000,
		"12.3456":               12_345_600,
		"12.345600":             12_345_600,
		"-1.5":                  -1_500_000,
		"0.000001":              1,
		"0":                     0,
		"-0":                    0,
		"007.5":                 7_500_000,
		"9223372036854.775807":  math.MaxInt64,
		"-9223372036854.775808": math.MinInt64,
	} {
		got, err := ParseMicro(in)
		if err != nil || got != want {
			t.Errorf("ParseMicro(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestParseMicroRejectsAmbiguousOrInexactAmountsWithAReason(t *testing.T) {
	for in, why := range map[string]string{
		"":                      "empty",
		" 1":                    "white space",
		"1 ":                    "white space",
		"+1":                    "'+'",
		"1e3":                   "exponent",
		"1E3":                   "exponent",
		"1.0000001":             "more than 6 decimals",
		"NaN":                   "not a decimal number",
		"Inf":                   "not a decimal number",
		"-Inf":                  "not a decimal number",
		"1.":                    "ends with '.'",
		".5":                    "starts with '.'",
		"-":                     "no digits",
		"1.2.3":                 "more than one '.'",
		"9223372036854.775808":  "out of range",
		"-9223372036854.775809": "out of range",
		"99999999999999999999":  "out of range",
		"١٢":                    "not an ASCII digit",
		"1,5":                   "not a decimal number",
		"0x10":                  "not a decimal number",
	} {
		_, err := ParseMicro(in)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseMicro(%q) error = %v; want a reason mentioning %q", in, err, why)
		}
	}
}

func TestMicroStringAlwaysHasSixDecimals(t *testing.T) {
	for m, want := range map[Micro]string{
		12_345_600:     "12.345600",
		-500_000:       "-0.500000",
		0:              "0.000000",
		1:              "0.000001",
		Coins(10):      "10.000000",
		math.MinInt64:  "-9223372036854.775808",
		math.MaxInt64:  "9223372036854.775807",
		-Coins(3) - 42: "-3.000042",
	} {
		if got := m.String(); got != want {
			t.Errorf("Micro(%d).String() = %q; want %q", int64(m), got, want)
		}
	}
}

func TestAppendMicroDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 32)
	allocs := testing.AllocsPerRun(100, func() { buf = AppendMicro(buf[:0], -123_456_789) })
	if allocs != 0 || string(buf) != "-123.456789" {
		t.Errorf("AppendMicro = %q with %v allocations; want \"-123.456789\" with 0", buf, allocs)
	}
}

func TestAmountsTravelAsDecimalStringsInJSON(t *testing.T) {
	b, err := json.Marshal(Account{Coins: 12_345_600})
	if err != nil || !strings.Contains(string(b), `"coins":"12.345600"`) {
		t.Fatalf("json.Marshal(Account) = %s, %v; want coins as \"12.345600\"", b, err)
	}
	var a Account
	if err := json.Unmarshal(b, &a); err != nil || a.Coins != 12_345_600 {
		t.Fatalf("json.Unmarshal = %+v, %v", a, err)
	}
}

func TestParseQtyAcceptsWholeSharesFromOneToAMillion(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "42": 42, "1000000": 1_000_000, "0007": 7} {
		if got, err := ParseQty(in); err != nil || got != want {
			t.Errorf("ParseQty(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		"": "missing", "1.5": "not a whole number", "abc": "not a whole number", "1e3": "not a whole number",
		"0": "not positive", "-3": "not positive", "-0": "not positive", "1000001": "more than 1000000",
		"99999999999999999999999": "more than 1000000", "+5": "not a whole number", " 5": "not a whole number",
	} {
		_, err := ParseQty(in)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseQty(%q) error = %v; want a reason mentioning %q", in, err, why)
		}
	}
}

func TestParseCoinsAcceptsPositiveAmountsOnly(t *testing.T) {
	if got, err := ParseCoins("2.5"); err != nil || got != 2_500_000 {
		t.Errorf("ParseCoins(2.5) = %d, %v", got, err)
	}
	for in, why := range map[string]string{"0": "not positive", "-1": "not positive", "0.0000001": "more than 6 decimals", "x": "not a decimal"} {
		_, err := ParseCoins(in)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseCoins(%q) error = %v; want a reason mentioning %q", in, err, why)
		}
	}
}

func TestCoinsIsWholeCoins(t *testing.T) {
	if Coins(10) != 10_000_000 || Coins(-3) != -3_000_000 {
		t.Errorf("Coins(10), Coins(-3) = %d, %d", Coins(10), Coins(-3))
	}
}

func FuzzParseMicro(f *testing.F) {
	for _, s := range []string{"12", "12.3456", "-1.5", "0.000001", "1.", ".5", "+1", "1e3", "NaN", " 1", "", "-",
		"9223372036854.775807", "-9223372036854.775808", "9223372036854.775808", "١", "1.0000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMicro(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseMicro(%q) failed without a reason", s)
			}
			return
		}
		back, err := ParseMicro(m.String())
		if err != nil || back != m {
			t.Fatalf("ParseMicro(%q) = %d; String %q parses back as %d, %v", s, m, m.String(), back, err)
		}
		if q, err := ParseQty(s); err == nil && Micro(q)*MicrosPerCoin != m {
			t.Fatalf("ParseQty(%q) = %d but ParseMicro = %s", s, q, m)
		}
	})
}

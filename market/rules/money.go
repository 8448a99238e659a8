package rules

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MaxQty is the largest quantity of shares one buy, sell or feed order may carry.
const MaxQty = 1_000_000

// MaxCoins is the most an account can hold (about 4.6 trillion coins). It keeps every sum of
// the rules inside an int64: an order that would go over it is invalid, a harvest stops at it.
const MaxCoins Micro = 1 << 62

// Coins returns n whole coins as a Micro.
func Coins(n int64) Micro { return Micro(n) * MicrosPerCoin }

// String formats m with exactly 6 decimals: "12.345600", "-0.500000".
func (m Micro) String() string {
	var buf [24]byte
	return string(AppendMicro(buf[:0], m))
}

// AppendMicro appends m with exactly 6 decimals to dst; it allocates only when dst is too
// small.
func AppendMicro(dst []byte, m Micro) []byte {
	u := uint64(m)
	if m < 0 {
		dst = append(dst, '-')
		u = -u // two's complement keeps math.MinInt64 right as a uint64
	}
	dst = strconv.AppendUint(dst, u/1_000_000, 10)
	frac := u % 1_000_000
	dst = append(dst, '.')
	for d := uint64(100_000); d > 0; d /= 10 {
		dst = append(dst, byte('0'+frac/d%10))
	}
	return dst
}

// MarshalText writes m as a decimal string with 6 decimals, the wire form of every amount.
func (m Micro) MarshalText() ([]byte, error) { return AppendMicro(nil, m), nil }

// UnmarshalText reads an amount written by MarshalText (or any form ParseMicro accepts).
func (m *Micro) UnmarshalText(b []byte) error {
	v, err := ParseMicro(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ParseMicro reads a decimal amount of coins: an optional '-', ASCII digits, and optionally
// '.' followed by 1 to 6 digits ("12", "12.3456", "-1.5", "0.000001"). Anything else is
// refused with the reason: no '+', spaces, exponents, NaN or Inf, no leading or trailing
// dot ("1." and ".5" are ambiguous on a wire), nothing beyond int64.
func ParseMicro(s string) (Micro, error) {
	if s == "" {
		return 0, errors.New("amount is empty; write a decimal number like 12.345600")
	}
	neg := false
	body := s
	switch body[0] {
	case '-':
		neg = true
		body = body[1:]
	case '+':
		return 0, fmt.Errorf("amount %q starts with '+'; write it without a sign", s)
	}
	var whole, frac uint64
	digits, fracDigits := 0, 0
	dot := -1
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9':
			if dot < 0 {
				if whole > (math.MaxUint64-9)/10 {
					return 0, fmt.Errorf("amount %q is out of range; amounts lie between %s and %s", s, Micro(math.MinInt64), Micro(math.MaxInt64))
				}
				whole = whole*10 + uint64(c-'0')
				digits++
			} else {
				fracDigits++
				if fracDigits > 6 {
					return 0, fmt.Errorf("amount %q has more than 6 decimals; coins are exact to 0.000001", s)
				}
				frac = frac*10 + uint64(c-'0')
			}
		case c == '.':
			if dot >= 0 {
				return 0, fmt.Errorf("amount %q has more than one '.'", s)
			}
			dot = i
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return 0, fmt.Errorf("amount %q contains white space; write the number alone", s)
		case c == 'e' || c == 'E':
			if digits > 0 {
				return 0, fmt.Errorf("amount %q uses an exponent; write all the digits", s)
			}
			return 0, fmt.Errorf("amount %q is not a decimal number like 12.345600", s)
		case c >= 0x80:
			return 0, fmt.Errorf("amount %q contains a character that is not an ASCII digit 0-9", s)
		default:
			return 0, fmt.Errorf("amount %q is not a decimal number like 12.345600 (unexpected %q)", s, c)
		}
	}
	switch {
	case digits == 0 && dot < 0:
		return 0, fmt.Errorf("amount %q has no digits; write a decimal number like 12.345600", s)
	case digits == 0:
		return 0, fmt.Errorf("amount %q starts with '.'; write a digit before it, like 0.5", s)
	case dot >= 0 && fracDigits == 0:
		return 0, fmt.Errorf("amount %q ends with '.'; write the decimals or drop the dot", s)
	}
	for i := fracDigits; i < 6; i++ {
		frac *= 10
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // math.MinInt64 is representable
	}
	if whole > (limit-frac)/1_000_000 {
		return 0, fmt.Errorf("amount %q is out of range; amounts lie between %s and %s", s, Micro(math.MinInt64), Micro(math.MaxInt64))
	}
	u := whole*1_000_000 + frac
	if neg {
		return Micro(-u), nil
	}
	return Micro(u), nil
}

// ParseQty reads a quantity of shares: a whole number from 1 to MaxQty.
func ParseQty(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("quantity is missing; give a whole number of shares from 1 to 1000000")
	}
	body := s
	neg := false
	if body[0] == '-' {
		neg = true
		body = body[1:]
	}
	if body == "" {
		return 0, fmt.Errorf("quantity %q is not a whole number", s)
	}
	var n int64
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("quantity %q is not a whole number; give a whole number of shares from 1 to 1000000", s)
		}
		if n <= MaxQty {
			n = n*10 + int64(c-'0')
		}
	}
	switch {
	case neg || n == 0:
		return 0, fmt.Errorf("quantity %q is not positive; give a whole number of shares from 1 to 1000000", s)
	case n > MaxQty:
		return 0, fmt.Errorf("quantity %q is more than 1000000 shares, the most one order may carry", s)
	}
	return n, nil
}

// ParseCoins reads the amount of an invest order: more than 0 coins, at most 6 decimals.
func ParseCoins(s string) (Micro, error) {
	m, err := ParseMicro(s)
	if err != nil {
		return 0, err
	}
	if m <= 0 {
		return 0, fmt.Errorf("amount %q is not positive; invest more than 0 coins", s)
	}
	return m, nil
}

// mulQtyPrice returns n × p exactly. Orders carry at most MaxQty shares and prices stay at or
// below MaxPrice, so the product fits an int64 by a wide margin.
func mulQtyPrice(n int64, p Micro) Micro { return Micro(n) * p }

// addSat adds two amounts, stopping at the bounds of int64 instead of wrapping.
func addSat(a, b Micro) Micro {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

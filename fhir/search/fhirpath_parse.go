package search

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file parses the FHIRPath grammar (fhirpath.html, "Grammar") into a
// small syntax tree that the compiler turns into closures. The parser
// accepts the whole expression grammar; the compiler decides which parts
// can be evaluated for indexing.

// astKind is the kind of a syntax tree node.
type astKind uint8

const (
	astIdent   astKind = iota // name at the start of a path or as a term
	astMember                 // left.name
	astCall                   // left.name(args), or name(args) as a term (left nil)
	astIndex                  // left[args[0]]
	astLiteral                // lit
	astVar                    // %name or $name
	astBinary                 // left op right
	astUnary                  // op left
	astTypeOp                 // left is/as typeName
	astEmpty                  // {}
)

type ast struct {
	kind  astKind
	name  string // identifier, member or function name, operator, variable, type name
	left  *ast
	right *ast
	args  []*ast
	lit   literal
	pos   int
}

// literal is a FHIRPath literal: a string, number, boolean or date/time.
type literal struct {
	kind litKind
	text string // string value, number text or date/time text (without '@')
	b    bool
}

type litKind uint8

const (
	litString litKind = iota
	litInteger
	litDecimal
	litBool
	litDate
	litDateTime
	litTime
)

// token kinds
type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokDelimIdent // `name`
	tokString
	tokNumber
	tokDate // @...
	tokVar  // %name, %`name` or %'name'
	tokThis // $this, $index, $total
	tokOp   // punctuation and operators
)

type token struct {
	kind tokKind
	text string
	pos  int
}

type parser struct {
	src  string
	pos  int
	tok  token
	peek *token
}

// parseFHIRPath parses expr. Errors say where the expression is wrong.
func parseFHIRPath(expr string) (*ast, error) {
	p := &parser{src: expr}
	if err := p.next(); err != nil {
		return nil, err
	}
	n, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf("unexpected %q", p.tok.text)
	}
	return n, nil
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at %d: %s", p.tok.pos, fmt.Sprintf(format, args...))
}

func (p *parser) next() error {
	t, err := p.lex()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) lex() (token, error) {
	s := p.src
	for p.pos < len(s) {
		c := s[p.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			p.pos++
			continue
		}
		// comments
		if c == '/' && p.pos+1 < len(s) && s[p.pos+1] == '/' {
			for p.pos < len(s) && s[p.pos] != '\n' {
				p.pos++
			}
			continue
		}
		if c == '/' && p.pos+1 < len(s) && s[p.pos+1] == '*' {
			end := strings.Index(s[p.pos+2:], "*/")
			if end < 0 {
				return token{}, fmt.Errorf("at %d: unterminated comment", p.pos)
			}
			p.pos += end + 4
			continue
		}
		break
	}
	start := p.pos
	if p.pos >= len(s) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := s[p.pos]
	switch {
	case isIdentStart(c):
		for p.pos < len(s) && isIdentPart(s[p.pos]) {
			p.pos++
		}
		return token{kind: tokIdent, text: s[start:p.pos], pos: start}, nil
	case c == '`':
		v, err := p.quoted('`')
		if err == nil && v == "" {
			err = fmt.Errorf("at %d: empty identifier", start)
		}
		return token{kind: tokDelimIdent, text: v, pos: start}, err
	case c == '\'':
		v, err := p.quoted('\'')
		return token{kind: tokString, text: v, pos: start}, err
	case isDigit(c):
		for p.pos < len(s) && isDigit(s[p.pos]) {
			p.pos++
		}
		if p.pos+1 < len(s) && s[p.pos] == '.' && isDigit(s[p.pos+1]) {
			p.pos++
			for p.pos < len(s) && isDigit(s[p.pos]) {
				p.pos++
			}
		}
		return token{kind: tokNumber, text: s[start:p.pos], pos: start}, nil
	case c == '@':
		p.pos++
		for p.pos < len(s) && (isDigit(s[p.pos]) || strings.IndexByte("-:.TZ+", s[p.pos]) >= 0) {
			p.pos++
		}
		return token{kind: tokDate, text: s[start+1 : p.pos], pos: start}, nil
	case c == '%':
		p.pos++
		if p.pos < len(s) && (s[p.pos] == '`' || s[p.pos] == '\'') {
			v, err := p.quoted(s[p.pos])
			return token{kind: tokVar, text: v, pos: start}, err
		}
		for p.pos < len(s) && (isIdentPart(s[p.pos]) || s[p.pos] == '-') {
			p.pos++
		}
		if p.pos == start+1 {
			return token{}, fmt.Errorf("at %d: '%%' without a name", start)
		}
		return token{kind: tokVar, text: s[start+1 : p.pos], pos: start}, nil
	case c == '$':
		p.pos++
		for p.pos < len(s) && isIdentPart(s[p.pos]) {
			p.pos++
		}
		return token{kind: tokThis, text: s[start:p.pos], pos: start}, nil
	}
	for _, op := range []string{"<=", ">=", "!=", "!~", ".", "[", "]", "(", ")", "{", "}", ",", "|", "=", "~", "<", ">", "+", "-", "*", "/", "&"} {
		if strings.HasPrefix(s[p.pos:], op) {
			p.pos += len(op)
			return token{kind: tokOp, text: op, pos: start}, nil
		}
	}
	r, _ := utf8.DecodeRuneInString(s[p.pos:])
	return token{}, fmt.Errorf("at %d: unexpected character %q", start, r)
}

// quoted reads a string or delimited identifier with FHIRPath escapes.
func (p *parser) quoted(q byte) (string, error) {
	s := p.src
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(s) {
		c := s[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\':
			if p.pos+1 >= len(s) {
				return "", fmt.Errorf("at %d: unterminated escape", p.pos)
			}
			e := s[p.pos+1]
			p.pos += 2
			switch e {
			case '\'', '"', '`', '\\', '/':
				b.WriteByte(e)
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if p.pos+4 > len(s) {
					return "", fmt.Errorf("at %d: bad \\u escape", p.pos)
				}
				v, err := strconv.ParseUint(s[p.pos:p.pos+4], 16, 32)
				if err != nil {
					return "", fmt.Errorf("at %d: bad \\u escape", p.pos)
				}
				b.WriteRune(rune(v))
				p.pos += 4
			default:
				return "", fmt.Errorf("at %d: unknown escape \\%c", p.pos-2, e)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", fmt.Errorf("at %d: unterminated string", start)
}

// Binding powers of the infix operators, lowest first (fhirpath.html,
// "Operator precedence").
func infixPower(t token) int {
	switch t.kind {
	case tokOp:
		switch t.text {
		case "|":
			return 7
		case "<", ">", "<=", ">=":
			return 6
		case "=", "~", "!=", "!~":
			return 5
		case "+", "-", "&":
			return 9
		case "*", "/":
			return 10
		case ".", "[":
			return 12
		}
	case tokIdent:
		switch t.text {
		case "implies":
			return 1
		case "or", "xor":
			return 2
		case "and":
			return 3
		case "in", "contains":
			return 4
		case "is", "as":
			return 8
		case "div", "mod":
			return 10
		}
	}
	return 0
}

func (p *parser) expression(minPower int) (*ast, error) {
	left, err := p.prefix()
	if err != nil {
		return nil, err
	}
	for {
		power := infixPower(p.tok)
		if power == 0 || power <= minPower {
			return left, nil
		}
		op := p.tok
		if err := p.next(); err != nil {
			return nil, err
		}
		switch {
		case op.text == ".":
			left, err = p.invocation(left)
		case op.text == "[":
			var idx *ast
			if idx, err = p.expression(0); err == nil {
				if p.tok.text != "]" || p.tok.kind != tokOp {
					return nil, p.errorf("expected ']'")
				}
				err = p.next()
				left = &ast{kind: astIndex, left: left, args: []*ast{idx}, pos: op.pos}
			}
		case op.kind == tokIdent && (op.text == "is" || op.text == "as"):
			var name string
			if name, err = p.typeSpecifier(); err == nil {
				left = &ast{kind: astTypeOp, name: op.text, left: left, right: &ast{kind: astIdent, name: name}, pos: op.pos}
			}
		default:
			var right *ast
			if right, err = p.expression(power); err == nil {
				left = &ast{kind: astBinary, name: op.text, left: left, right: right, pos: op.pos}
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

// typeSpecifier reads a possibly qualified type name: Quantity, FHIR.Quantity.
func (p *parser) typeSpecifier() (string, error) {
	if p.tok.kind != tokIdent && p.tok.kind != tokDelimIdent {
		return "", p.errorf("expected a type name")
	}
	name := p.tok.text
	if err := p.next(); err != nil {
		return "", err
	}
	if p.tok.kind == tokOp && p.tok.text == "." {
		if err := p.next(); err != nil {
			return "", err
		}
		if p.tok.kind != tokIdent && p.tok.kind != tokDelimIdent {
			return "", p.errorf("expected a type name")
		}
		name += "." + p.tok.text
		if err := p.next(); err != nil {
			return "", err
		}
	}
	return name, nil
}

// invocation parses what follows a '.': a member name or a function call.
func (p *parser) invocation(left *ast) (*ast, error) {
	t := p.tok
	switch t.kind {
	case tokIdent, tokDelimIdent:
	case tokThis:
		return nil, p.errorf("%s cannot follow '.'", t.text)
	default:
		return nil, p.errorf("expected a name after '.'")
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if t.kind == tokIdent && p.tok.kind == tokOp && p.tok.text == "(" {
		args, err := p.arguments()
		if err != nil {
			return nil, err
		}
		return &ast{kind: astCall, name: t.text, left: left, args: args, pos: t.pos}, nil
	}
	return &ast{kind: astMember, name: t.text, left: left, pos: t.pos}, nil
}

func (p *parser) arguments() ([]*ast, error) {
	if err := p.next(); err != nil { // '('
		return nil, err
	}
	var args []*ast
	if p.tok.kind == tokOp && p.tok.text == ")" {
		return args, p.next()
	}
	for {
		a, err := p.expression(0)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.tok.kind != tokOp {
			return nil, p.errorf("expected ',' or ')'")
		}
		switch p.tok.text {
		case ",":
			if err := p.next(); err != nil {
				return nil, err
			}
		case ")":
			return args, p.next()
		default:
			return nil, p.errorf("expected ',' or ')'")
		}
	}
}

func (p *parser) prefix() (*ast, error) {
	t := p.tok
	switch t.kind {
	case tokEOF:
		return nil, p.errorf("unexpected end of expression")
	case tokString:
		return &ast{kind: astLiteral, lit: literal{kind: litString, text: t.text}, pos: t.pos}, p.next()
	case tokNumber:
		k := litInteger
		if strings.IndexByte(t.text, '.') >= 0 {
			k = litDecimal
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind == tokString || (p.tok.kind == tokIdent && calendarUnits[p.tok.text]) {
			return nil, p.errorf("quantity literals are not supported")
		}
		return &ast{kind: astLiteral, lit: literal{kind: k, text: t.text}, pos: t.pos}, nil
	case tokDate:
		lit, err := dateLiteral(t.text)
		if err != nil {
			return nil, p.errorf("%v", err)
		}
		return &ast{kind: astLiteral, lit: lit, pos: t.pos}, p.next()
	case tokVar:
		return &ast{kind: astVar, name: "%" + t.text, pos: t.pos}, p.next()
	case tokThis:
		return &ast{kind: astVar, name: t.text, pos: t.pos}, p.next()
	case tokIdent, tokDelimIdent:
		if t.kind == tokIdent {
			switch t.text {
			case "true", "false":
				return &ast{kind: astLiteral, lit: literal{kind: litBool, b: t.text == "true"}, pos: t.pos}, p.next()
			}
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if t.kind == tokIdent && p.tok.kind == tokOp && p.tok.text == "(" {
			args, err := p.arguments()
			if err != nil {
				return nil, err
			}
			return &ast{kind: astCall, name: t.text, args: args, pos: t.pos}, nil
		}
		return &ast{kind: astIdent, name: t.text, pos: t.pos}, nil
	case tokOp:
		switch t.text {
		case "(":
			if err := p.next(); err != nil {
				return nil, err
			}
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if p.tok.kind != tokOp || p.tok.text != ")" {
				return nil, p.errorf("expected ')'")
			}
			return e, p.next()
		case "{":
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.kind != tokOp || p.tok.text != "}" {
				return nil, p.errorf("expected '}'")
			}
			return &ast{kind: astEmpty, pos: t.pos}, p.next()
		case "+", "-":
			if err := p.next(); err != nil {
				return nil, err
			}
			e, err := p.expression(11)
			if err != nil {
				return nil, err
			}
			return &ast{kind: astUnary, name: t.text, left: e, pos: t.pos}, nil
		}
	}
	return nil, p.errorf("unexpected %q", t.text)
}

var calendarUnits = map[string]bool{
	"year": true, "years": true, "month": true, "months": true, "week": true, "weeks": true,
	"day": true, "days": true, "hour": true, "hours": true, "minute": true, "minutes": true,
	"second": true, "seconds": true, "millisecond": true, "milliseconds": true,
}

// dateLiteral classifies the text after '@': a date, a dateTime (with a
// 'T') or a time ("T12:00").
func dateLiteral(s string) (literal, error) {
	switch {
	case strings.HasPrefix(s, "T"):
		if len(s) < 3 {
			return literal{}, fmt.Errorf("bad time literal @%s", s)
		}
		return literal{kind: litTime, text: s[1:]}, nil
	case strings.HasSuffix(s, "T"):
		s = strings.TrimSuffix(s, "T")
		if _, _, err := ParseDate(s); err != nil {
			return literal{}, fmt.Errorf("bad date literal @%s", s)
		}
		return literal{kind: litDateTime, text: s}, nil
	}
	if _, _, err := ParseDate(s); err != nil {
		return literal{}, fmt.Errorf("bad date literal @%s", s)
	}
	if strings.IndexByte(s, 'T') >= 0 {
		return literal{kind: litDateTime, text: s}, nil
	}
	return literal{kind: litDate, text: s}, nil
}

package intake

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

// SenderRule says which sending application (MSH-3) and facility (MSH-4)
// the holder of a TLS client certificate may send as.
type SenderRule struct {
	// Certificate is a name of the client certificate: its subject CN,
	// or one of its DNS, URI or e-mail subject alternative names.
	Certificate string `json:"certificate"`
	// Applications and Facilities list the MSH-3 and MSH-4 values
	// allowed, each matched against the field's namespace id (first
	// component) or its whole value; empty allows any.
	Applications []string `json:"sendingApplications"`
	Facilities   []string `json:"sendingFacilities"`
}

// Senders maps client certificates to the sending systems they identify
// (mutual TLS on MLLP).
type Senders struct {
	rules []SenderRule
}

// NewSenders checks rules: each names a certificate, once.
func NewSenders(rules []SenderRule) (*Senders, error) {
	seen := map[string]bool{}
	for i, r := range rules {
		name := strings.ToLower(strings.TrimSpace(r.Certificate))
		if name == "" {
			return nil, fmt.Errorf("intake: sender %d: no certificate name", i+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("intake: sender %d: certificate %q named twice", i+1, r.Certificate)
		}
		seen[name] = true
	}
	return &Senders{rules: rules}, nil
}

// ParseSenders reads a JSON array of SenderRule.
func ParseSenders(data []byte) (*Senders, error) {
	var rules []SenderRule
	if err := json.Unmarshal(data, &rules); err != nil {
		return nil, fmt.Errorf("intake: senders: %w", err)
	}
	if len(rules) == 0 {
		return nil, errors.New("intake: senders: the list is empty")
	}
	return NewSenders(rules)
}

// Sender is the sending system a connection's client certificate
// identifies.
type Sender struct {
	// Certificate is the certificate's subject CN, for reasons and logs.
	Certificate string
	// Rule is the rule the certificate matched; nil when it matched none
	// (or there was no certificate): every message is then rejected.
	Rule *SenderRule
}

// Identify returns the Sender of a connection from its peer certificates
// (leaf first).
func (s *Senders) Identify(certs []*x509.Certificate) *Sender {
	if len(certs) == 0 {
		return &Sender{}
	}
	leaf := certs[0]
	names := []string{leaf.Subject.CommonName}
	names = append(names, leaf.DNSNames...)
	names = append(names, leaf.EmailAddresses...)
	for _, u := range leaf.URIs {
		names = append(names, u.String())
	}
	for i := range s.rules {
		for _, n := range names {
			if n != "" && strings.EqualFold(n, strings.TrimSpace(s.rules[i].Certificate)) {
				return &Sender{Certificate: leaf.Subject.CommonName, Rule: &s.rules[i]}
			}
		}
	}
	return &Sender{Certificate: leaf.Subject.CommonName}
}

// check returns the errors that reject a message whose header h does not
// match the sender's identity (table 0357 has no code for an unauthorised
// sender: 207, application error, the catch-all for rejections, with the
// field in ERR-2).
func (s *Sender) check(h *hl7v2.Header) []*hl7v2.Error {
	loc := func(field int) hl7v2.Location {
		return hl7v2.Location{Segment: "MSH", Sequence: 1, Field: field, Position: 1}
	}
	if s.Rule == nil {
		return []*hl7v2.Error{{Code: hl7v2.CodeApplicationInternal, Severity: hl7v2.SeverityError, Loc: loc(3),
			Msg: "the client certificate is not mapped to a sending system"}}
	}
	var errs []*hl7v2.Error
	if !allowedHD(s.Rule.Applications, h.SendingApplication) {
		errs = append(errs, &hl7v2.Error{Code: hl7v2.CodeApplicationInternal, Severity: hl7v2.SeverityError, Loc: loc(3),
			Msg: "sending application not allowed for the client certificate " + s.Rule.Certificate})
	}
	if !allowedHD(s.Rule.Facilities, h.SendingFacility) {
		errs = append(errs, &hl7v2.Error{Code: hl7v2.CodeApplicationInternal, Severity: hl7v2.SeverityError, Loc: loc(4),
			Msg: "sending facility not allowed for the client certificate " + s.Rule.Certificate})
	}
	return errs
}

// allowedHD reports whether hd (an HD field) is one of allowed, by its
// namespace id or its whole value; an empty list allows any.
func allowedHD(allowed []string, hd hl7v2.HD) bool {
	if len(allowed) == 0 {
		return true
	}
	return slices.Contains(allowed, hd.NamespaceID) || slices.Contains(allowed, hd.String())
}

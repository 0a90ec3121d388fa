package provider

import "encoding/json"

// Receipt is what the vendor answered to an accepted Send.
type Receipt struct {
	Provider string   // Provider.Name() of the sender
	Platform Platform // the request's platform
	// ID is the vendor's id: a task id when Pollable, otherwise a message id.
	ID string
	// Pollable reports whether ID can be given to StatusQuerier.Status. When
	// false the push is final as soon as it is accepted.
	Pollable bool
	// Raw is the vendor's response body, with any secret removed.
	Raw json.RawMessage
	// Failures lists tokens the vendor refused inside an accepted request,
	// in the order the tokens were given.
	Failures []TokenFailure
}

// TokenFailure is one token that an accepted request could not reach.
type TokenFailure struct {
	Token   string
	Kind    Kind   // InvalidToken for dead or unknown tokens
	Code    string // the vendor's code, verbatim
	Message string
}

// Capabilities describes what a vendor accepts for one platform.
type Capabilities struct {
	// MaxTokens is the largest AudienceTokens batch one Send accepts.
	MaxTokens int
	// MaxPayloadBytes is the vendor's limit on the encoded payload; 0 if none.
	MaxPayloadBytes int
	// Audiences lists the audience kinds the vendor supports.
	Audiences []AudienceKind
}

// Supports reports whether k is among c.Audiences.
func (c Capabilities) Supports(k AudienceKind) bool {
	for _, a := range c.Audiences {
		if a == k {
			return true
		}
	}
	return false
}

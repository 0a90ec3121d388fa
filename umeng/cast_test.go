package umeng

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// sentBody is the part of a send body the audience decides.
type sentBody struct {
	Type         string          `json:"type"`
	DeviceTokens string          `json:"device_tokens"`
	AliasType    string          `json:"alias_type"`
	Alias        string          `json:"alias"`
	FileID       string          `json:"file_id"`
	Filter       json.RawMessage `json:"filter"`
	GroupID      string          `json:"group_id"`
	Policy       struct {
		OutBizNo string `json:"out_biz_no"`
	} `json:"policy"`
}

func TestSendMapsAudiencesToCastTypes(t *testing.T) {
	tests := []struct {
		name     string
		strategy Strategy
		audience provider.Audience
		answer   string
		want     sentBody
		pollable bool
	}{
		{
			name:     "one token is a unicast",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}},
			answer:   okMsg,
			want:     sentBody{Type: "unicast", DeviceTokens: "t1"},
		},
		{
			name:     "several tokens are a listcast",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", "t2", "t3"}},
			answer:   okMsg,
			want:     sentBody{Type: "listcast", DeviceTokens: "t1,t2,t3"},
		},
		{
			name:     "500 tokens are still one listcast",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(500)},
			answer:   okMsg,
			want:     sentBody{Type: "listcast", DeviceTokens: strings.Join(tokens(500), ",")},
		},
		{
			name:     "tokens with the filecast strategy",
			strategy: StrategyFilecast,
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}},
			answer:   okTask,
			want:     sentBody{Type: "filecast", FileID: "PF0000000000000001"},
			pollable: true,
		},
		{
			name:     "broadcast",
			audience: provider.Audience{Kind: provider.AudienceBroadcast},
			answer:   okTask,
			want:     sentBody{Type: "broadcast"},
			pollable: true,
		},
		{
			name:     "filter object",
			audience: provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(` {"where": {"and": []}} `)},
			answer:   okTask,
			want:     sentBody{Type: "groupcast", Filter: json.RawMessage(`{"where":{"and":[]}}`)},
			pollable: true,
		},
		{
			name:     "group id",
			audience: provider.Audience{Kind: provider.AudienceFilter, GroupID: "g1"},
			answer:   okTask,
			want:     sentBody{Type: "groupcast", GroupID: "g1"},
			pollable: true,
		},
		{
			name:     "tags",
			audience: provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"a"}},
			answer:   okTask,
			want:     sentBody{Type: "groupcast", Filter: json.RawMessage(`{"where":{"and":[{"or":[{"tag":"a"}]}]}}`)},
			pollable: true,
		},
		{
			// {"where":""} is 12 bytes: the filter is Umeng's 3000 exactly.
			name:     "filter of 3000 bytes",
			audience: provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"where":"` + strings.Repeat("x", maxFilterBytes-12) + `"}`)},
			answer:   okTask,
			want:     sentBody{Type: "groupcast", Filter: json.RawMessage(`{"where":"` + strings.Repeat("x", maxFilterBytes-12) + `"}`)},
			pollable: true,
		},
		{
			name:     "aliases",
			audience: provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"a1", "a2"}},
			answer:   `{"ret":"SUCCESS","data":{"msg_id":"uatest0000000000000001"}}`,
			want:     sentBody{Type: "customizedcast", AliasType: "user_num", Alias: "a1,a2"},
		},
		{
			name:     "file of tokens",
			audience: provider.Audience{Kind: provider.AudienceFile, FileID: "f1"},
			answer:   okTask,
			want:     sentBody{Type: "filecast", FileID: "f1"},
			pollable: true,
		},
		{
			name:     "file of aliases",
			audience: provider.Audience{Kind: provider.AudienceFile, FileID: "f1", AliasType: "user_num"},
			answer:   okTask,
			want:     sentBody{Type: "customizedcast", AliasType: "user_num", FileID: "f1"},
			pollable: true,
		},
	}
	for _, tt := range tests {
		for _, p := range provider.Platforms() {
			t.Run(tt.name+"/"+string(p), func(t *testing.T) {
				h := newHarness(t, func(c *Config) { c.Strategy = tt.strategy })
				h.respond("/upload", http.StatusOK, okUpload)
				h.respond("/api/send", http.StatusOK, tt.answer)

				rc, err := h.client.Send(context.Background(), request(p, tt.audience))
				require.NoError(t, err)

				calls := h.requests()
				var got sentBody
				require.NoError(t, json.Unmarshal(calls[len(calls)-1].body, &got))
				want := tt.want
				if tt.pollable {
					want.Policy.OutBizNo = "push-7-chunk-0"
				}
				if want.Filter != nil {
					assert.JSONEq(t, string(want.Filter), string(got.Filter))
					got.Filter, want.Filter = nil, nil
				}
				assert.Equal(t, want, got)

				var answer struct {
					Data sendData `json:"data"`
				}
				require.NoError(t, json.Unmarshal([]byte(tt.answer), &answer))
				assert.Equal(t, &provider.Receipt{
					Provider: Name,
					Platform: p,
					ID:       answer.Data.TaskID + answer.Data.MsgID,
					Pollable: tt.pollable,
					Raw:      json.RawMessage(tt.answer),
				}, rc)
			})
		}
	}
}

func TestSendRejectsBadAudiences(t *testing.T) {
	tests := []struct {
		name     string
		audience provider.Audience
		field    string
	}{
		{"no kind", provider.Audience{}, "audience.kind"},
		{"unknown kind", provider.Audience{Kind: "segment"}, "audience.kind"},
		{"no tokens", provider.Audience{Kind: provider.AudienceTokens}, "audience.tokens"},
		{"501 tokens", provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(501)}, "audience.tokens"},
		{"empty token", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", ""}}, "audience.tokens[1]"},
		{"token with comma", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1,t2"}}, "audience.tokens[0]"},
		{"token with space", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", "t 2"}}, "audience.tokens[1]"},
		{"token with newline", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1\n"}}, "audience.tokens[0]"},
		{"no aliases", provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num"}, "audience.aliases"},
		{"no alias type", provider.Audience{Kind: provider.AudienceAliases, Aliases: []string{"a"}}, "audience.alias_type"},
		{"alias type with comma", provider.Audience{Kind: provider.AudienceAliases, AliasType: "a,b", Aliases: []string{"a"}}, "audience.alias_type"},
		{"501 aliases", provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: tokens(501)}, "audience.aliases"},
		{"alias with comma", provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"a,b"}}, "audience.aliases[0]"},
		{"empty filter", provider.Audience{Kind: provider.AudienceFilter}, "audience.filter"},
		{"filter not JSON", provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{`)}, "audience.filter"},
		{"filter not an object", provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`"vip"`)}, "audience.filter"},
		{"filter of 3001 bytes", provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"where":"` + strings.Repeat("x", maxFilterBytes-12+1) + `"}`)}, "audience.filter"},
		{"filter too long", provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"where":"` + strings.Repeat("x", 3000) + `"}`)}, "audience.filter"},
		{"filter and group", provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{}`), GroupID: "g"}, "audience.filter"},
		{"group and tags", provider.Audience{Kind: provider.AudienceFilter, GroupID: "g", Tags: []string{"a"}}, "audience.filter"},
		{"empty tag", provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"a", ""}}, "audience.tags[1]"},
		{"no file id", provider.Audience{Kind: provider.AudienceFile}, "audience.file_id"},
		{"file id with space", provider.Audience{Kind: provider.AudienceFile, FileID: "f 1"}, "audience.file_id"},
		{"file alias type with space", provider.Audience{Kind: provider.AudienceFile, FileID: "f1", AliasType: "user num"}, "audience.alias_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, strategy := range []Strategy{StrategyListcast, StrategyFilecast} {
				h := newHarness(t, func(c *Config) { c.Strategy = strategy })
				h.requireRefused(t, request(provider.Android, tt.audience), tt.field)
			}
		})
	}
}

// TestPlainListItemMatchesByteCheck proves the word-at-a-time test of
// plainListItem against the plain one, for every byte value at every
// position of entries of 1 to 17 bytes (so every lane of a word and the tail).
func TestPlainListItemMatchesByteCheck(t *testing.T) {
	naive := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c == ',' || c == '"' || c == '\\' || c >= 0x7f {
				return false
			}
		}
		return s != ""
	}
	assert.False(t, plainListItem(""))
	checked := 0
	for n := 1; n <= 17; n++ {
		for pos := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				s := string(b)
				require.Equal(t, naive(s), plainListItem(s), "entry %q", s)
				checked++
			}
		}
	}
	assert.Equal(t, 256*17*18/2, checked)
	// Lanes next to a flagged byte: borrows and carries must not hide it
	// or invent one.
	for _, s := range []string{"~~~~~~~~", "!!!!!!!!", "\x7f!!!!!!!", "!!!!!!!\x7f", "\xff\x00abcdef", "+-+-+-+-", ",aaaaaaaa",
		"#!#!#!#!", "[]][[]][", "\"aaaaaaaa", "aaaaaaa\\", "!!!\"!!!!"} {
		assert.Equal(t, naive(s), plainListItem(s), "entry %q", s)
	}
}

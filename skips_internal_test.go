package push

import (
	"testing"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// TestSkipsSayWhy: the devices a push skips are counted by why, each
// reason once with its count: a provider not configured, one configured
// for the other platform only, and tokens no vendor takes.
func TestSkipsSayWhy(t *testing.T) {
	s := &Service{def: "umeng", providers: map[string]provider.Provider{"umeng": nil, "jpush": nil},
		served: map[target]bool{{"umeng", "android"}: true, {"jpush", "ios"}: true, {"jpush", "android"}: true}}
	var k skips
	for _, tg := range []registry.Target{
		{Platform: "ios", Token: "t1"},                          // umeng, the default: Android only
		{Platform: " IOS ", Token: "t2", PushPlatform: "umeng"}, // read as ios
		{Platform: "android", Token: "t3", PushPlatform: "getui"},
		{Platform: "android", Token: "bad\x00", PushPlatform: "jpush"},
	} {
		g, _, ok := s.targetOf(tg)
		if ok {
			t.Fatalf("%+v: served", tg)
		}
		k.add(s, g)
	}
	want := `4 active devices skipped: 1 on "android" through "getui", which is not configured; ` +
		`2 on "ios" through "umeng", which does not serve "ios" here; ` +
		`1 with a token no vendor takes (blank, not UTF-8, or holding a NUL, a comma or white space)`
	if got := k.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var one skips
	g, _, ok := s.targetOf(registry.Target{Platform: "android", Token: "   ", PushPlatform: "jpush"})
	if ok {
		t.Fatal("a blank token: served")
	}
	one.add(s, g)
	if got, want := one.String(), "1 active device skipped: 1 with a token no vendor takes (blank, not UTF-8, or holding a NUL, a comma or white space)"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

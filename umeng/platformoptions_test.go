package umeng

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestAppRefusesTheOtherPlatformsOptions: an App's Defaults and
// ClassDefaults serve its own platform only, so an option only the other
// platform's sends carry is refused at New, naming it, where it would
// otherwise do nothing. Options both platforms carry are accepted.
func TestAppRefusesTheOtherPlatformsOptions(t *testing.T) {
	badge := "+1"
	on := true
	for _, tt := range []struct {
		name  string
		cfg   Config
		field string
		want  string
	}{
		{"channel properties on iOS", Config{IOS: App{AppKey: iosKey, AppMasterSecret: iosSecret,
			Defaults: Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.Push"}}}},
			"ios.defaults.channel_properties", "is an Android option: the iOS app's sends do not carry it"},
		{"re_pop in an iOS class", Config{IOS: App{AppKey: iosKey, AppMasterSecret: iosSecret,
			ClassDefaults: map[provider.Class]Options{provider.ClassMarketing: {RePop: &on}}}},
			"ios.class_defaults.marketing.re_pop", "is an Android option"},
		{"ios_badge on Android", Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret,
			Defaults: Options{IOSBadge: &badge}}},
			"android.defaults.ios_badge", "is an iOS option: the Android app's sends do not carry it"},
		{"interruption level in an Android class", Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret,
			ClassDefaults: map[provider.Class]Options{provider.ClassService: {InterruptionLevel: InterruptionTimeSensitive}}}},
			"android.class_defaults.service.interruption_level", "is an iOS option"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			var fe *provider.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.Contains(t, err.Error(), tt.field+": "+tt.want)
		})
	}

	_, err := New(Config{
		IOS: App{AppKey: iosKey, AppMasterSecret: iosSecret, Defaults: Options{IOSBadge: &badge, MaxSendNum: 2000},
			ClassDefaults: map[provider.Class]Options{provider.ClassMarketing: {InterruptionLevel: InterruptionPassive}}},
		Android: App{AppKey: androidKey, AppMasterSecret: androidSecret, Defaults: Options{RePop: &on, ReceiptURL: "https://example.com/r"},
			ClassDefaults: map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{XiaomiChannelID: "orders"}}}},
	})
	assert.NoError(t, err, "each app with its own platform's options and the common ones")
}

// TestPlatformOptionsFollowTheDocs: platformOptions holds exactly the
// Options fields whose documentation ends "Android." or "iOS." (a field
// without a comment of its own shares the one before it), so that a new
// field is classified where it is documented.
func TestPlatformOptionsFollowTheDocs(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "options.go", nil, parser.ParseComments)
	require.NoError(t, err)
	want := map[string]provider.Platform{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Options" {
			return true
		}
		doc := ""
		for _, fld := range ts.Type.(*ast.StructType).Fields.List {
			if fld.Doc != nil {
				doc = strings.TrimSpace(fld.Doc.Text())
			}
			for _, name := range fld.Names {
				switch {
				case strings.HasSuffix(doc, "Android."):
					want[name.Name] = provider.Android
				case strings.HasSuffix(doc, "iOS."):
					want[name.Name] = provider.IOS
				}
			}
		}
		return false
	})
	require.NotEmpty(t, want)
	assert.Equal(t, want, platformOptions)
}

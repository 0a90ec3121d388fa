package umeng

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tuisong/push/provider"
)

// Umeng's top-level "category", its own message class, which it uses to
// choose the Xiaomi and vivo classes. Umeng documents it for Android only.
const (
	categoryMarketing = 0
	categoryService   = 1
)

// classCategory maps a provider.Class to Umeng's category and the Huawei
// and Honor importance; ok is false for an unset class.
func classCategory(c provider.Class) (category int, importance HuaweiImportance, ok bool) {
	switch c {
	case provider.ClassMarketing:
		return categoryMarketing, HuaweiImportanceLow, true
	case provider.ClassService:
		return categoryService, HuaweiImportanceNormal, true
	}
	return 0, "", false
}

// channelField is the field path of a ChannelProperties field.
func channelField(name string) string { return "overrides.umeng.channel_properties." + name }

// typedChannelKeys are the channel_properties keys ChannelProperties has a
// field for; ChannelProperties.Extra must not use them.
var typedChannelKeys = map[string]bool{
	"channel_activity": true, "main_activity": true, "xiaomi_channel_id": true,
	"xiaomi_extra_properties": true, "huawei_channel_importance": true,
	"huawei_channel_category": true, "oppo_channel_id": true, "oppo_category": true,
	"oppo_notify_level": true, "oppo_private_msg_template": true, "vivo_category": true,
	"vivo_addbadge": true, "meizu_msg_type": true, "channel_fcm": true,
}

// buildChannelProperties checks cp and returns the channel_properties
// object to send, nil when there is nothing to say. importance is the
// Huawei importance the message class implies, used when cp sets none.
// A message leaves channel_activity out: Umeng applies it to notifications
// only. category is Umeng's top-level category sent with it (nil: none),
// from which Umeng picks vivo's classification: a vivo category of the
// other, vivo refuses (provider.CheckVivoCategory).
func buildChannelProperties(cp *ChannelProperties, importance HuaweiImportance, message bool, category *int) (map[string]any, error) {
	out := map[string]any{}
	for _, f := range []struct {
		name, value string
	}{
		{"channel_activity", cp.ChannelActivity},
		{"main_activity", cp.MainActivity},
		{"xiaomi_channel_id", cp.XiaomiChannelID},
		{"huawei_channel_category", cp.HuaweiChannelCategory},
		{"oppo_channel_id", cp.OppoChannelID},
		{"oppo_category", cp.OppoCategory},
		{"vivo_category", cp.VivoCategory},
	} {
		if f.value == "" {
			continue
		}
		if strings.ContainsFunc(f.value, isSpaceOrControl) {
			return nil, invalid(channelField(f.name), "must not contain white space")
		}
		out[f.name] = f.value
	}
	if err := provider.CheckVivoCategory(channelField("vivo_category"), cp.VivoCategory, category); err != nil {
		return nil, &provider.Error{Provider: Name, Op: opValidate, Kind: provider.InvalidRequest, Err: err}
	}
	if message {
		delete(out, "channel_activity")
	}
	if cp.HuaweiChannelImportance != "" {
		importance = cp.HuaweiChannelImportance
	}
	switch importance {
	case "":
	case HuaweiImportanceLow, HuaweiImportanceNormal:
		out["huawei_channel_importance"] = string(importance)
	default:
		return nil, invalid(channelField("huawei_channel_importance"),
			fmt.Sprintf("must be %q or %q, got %q", HuaweiImportanceLow, HuaweiImportanceNormal, importance))
	}
	switch cp.OppoNotifyLevel {
	case 0:
	case OppoNotifyTray, OppoNotifyTrayLockScreen, OppoNotifyAll:
		if cp.OppoCategory == "" {
			return nil, invalid(channelField("oppo_notify_level"), "needs oppo_category")
		}
		out["oppo_notify_level"] = strconv.Itoa(int(cp.OppoNotifyLevel))
	default:
		return nil, invalid(channelField("oppo_notify_level"), fmt.Sprintf("must be 1, 2 or 16, got %d", cp.OppoNotifyLevel))
	}
	if t := cp.OppoPrivateMsgTemplate; t != nil {
		if strings.TrimSpace(t.TemplateID) == "" {
			return nil, invalid(channelField("oppo_private_msg_template.private_msg_template_id"), "is required")
		}
		for name, params := range map[string]map[string]string{
			"private_title_parameters": t.TitleParameters, "private_content_parameters": t.ContentParameters,
		} {
			if err := checkKeys(channelField("oppo_private_msg_template."+name), params); err != nil {
				return nil, err
			}
		}
		out["oppo_private_msg_template"] = t
	}
	if len(cp.XiaomiExtraProperties) > 0 {
		if err := checkKeys(channelField("xiaomi_extra_properties"), cp.XiaomiExtraProperties); err != nil {
			return nil, err
		}
		out["xiaomi_extra_properties"] = cp.XiaomiExtraProperties
	}
	if cp.VivoAddBadge != nil {
		out["vivo_addbadge"] = strconv.FormatBool(*cp.VivoAddBadge)
	}
	if cp.MeizuMsgType != nil {
		if *cp.MeizuMsgType != 0 && *cp.MeizuMsgType != 1 {
			return nil, invalid(channelField("meizu_msg_type"), fmt.Sprintf("must be 0 (public) or 1 (private), got %d", *cp.MeizuMsgType))
		}
		out["meizu_msg_type"] = strconv.Itoa(*cp.MeizuMsgType)
	}
	if cp.ChannelFCM != nil {
		fcm := "0"
		if *cp.ChannelFCM {
			fcm = "1"
		}
		out["channel_fcm"] = fcm
	}
	for _, k := range sortedKeys(cp.Extra) {
		switch {
		case strings.TrimSpace(k) == "":
			return nil, invalid(channelField("extra"), "has an empty key")
		case typedChannelKeys[k]:
			return nil, invalid(entry(channelField("extra"), k), "has a field of its own in ChannelProperties; set that instead")
		}
		out[k] = cp.Extra[k]
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkKeys refuses an empty key in m.
func checkKeys(field string, m map[string]string) error {
	for k := range m {
		if strings.TrimSpace(k) == "" {
			return invalid(field, "has an empty key")
		}
	}
	return nil
}

// buildLocalProperties checks lp and returns it for the wire, nil when it
// is empty. Umeng ignores an importance without a category, so that is
// refused rather than silently lost.
func buildLocalProperties(lp *LocalProperties) (*LocalProperties, error) {
	if *lp == (LocalProperties{}) {
		return nil, nil
	}
	if lp.Importance != "" && lp.Category == "" {
		return nil, invalid("overrides.umeng.local_properties.importance", "needs category: Umeng ignores an importance without one")
	}
	for _, f := range []struct{ name, value string }{
		{"category", lp.Category}, {"importance", lp.Importance}, {"channel_id", lp.ChannelID},
	} {
		if strings.ContainsFunc(f.value, isSpaceOrControl) {
			return nil, invalid("overrides.umeng.local_properties."+f.name, "must not contain white space")
		}
	}
	cp := *lp
	return &cp, nil
}

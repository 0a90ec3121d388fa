package umeng

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tuisong/push/provider"
)

// sendBody is the JSON body of /api/send. Field order is the wire order:
// sendHead's, device_tokens, then sendRest's.
type sendBody struct {
	sendHead
	DeviceTokens string `json:"device_tokens,omitempty"`
	// plainTokens: every token in DeviceTokens is plainListItem (see
	// encode).
	plainTokens bool
	sendRest
}

// sendHead is the fields of a send body before device_tokens.
type sendHead struct {
	AppKey    string   `json:"appkey"`
	Timestamp string   `json:"timestamp"`
	Type      castType `json:"type"`
}

// sendRest is the fields of a send body after device_tokens.
type sendRest struct {
	AliasType         string           `json:"alias_type,omitempty"`
	Alias             string           `json:"alias,omitempty"`
	FileID            string           `json:"file_id,omitempty"`
	Filter            json.RawMessage  `json:"filter,omitempty"`
	GroupID           string           `json:"group_id,omitempty"`
	Payload           json.RawMessage  `json:"payload"`
	Policy            *policy          `json:"policy,omitempty"`
	ProductionMode    string           `json:"production_mode"`
	Description       string           `json:"description,omitempty"`
	Category          *int             `json:"category,omitempty"`
	ChannelProperties map[string]any   `json:"channel_properties,omitempty"`
	LocalProperties   *LocalProperties `json:"local_properties,omitempty"`
	MiPush            string           `json:"mipush,omitempty"`
	MiActivity        string           `json:"mi_activity,omitempty"`
	ReceiptURL        string           `json:"receipt_url,omitempty"`
	ReceiptType       string           `json:"receipt_type,omitempty"`
	CallbackParams    json.RawMessage  `json:"callback_params,omitempty"`
}

// encode returns the JSON of b as it goes on the wire. A listcast's up to
// 500 joined tokens are most of it: when checkList found each of them
// plain (printable ASCII, no quote or backslash: what JSON writes as it
// is), they are copied into the body rather than scanned a second time by
// the JSON encoder, which writes the same bytes. Below spliceMin bytes of
// tokens the one encoding costs less than the two the copy needs.
func (b *sendBody) encode() ([]byte, error) {
	const spliceMin = 1024
	if !b.plainTokens || len(b.DeviceTokens) < spliceMin {
		return marshal(b)
	}
	head, err := marshal(&b.sendHead)
	if err != nil {
		return nil, err
	}
	rest, err := marshal(&b.sendRest)
	if err != nil {
		return nil, err
	}
	const key = `,"device_tokens":"`
	out := make([]byte, 0, len(head)+len(key)+len(b.DeviceTokens)+len(rest)+1)
	out = append(out, head[:len(head)-1]...) // without its closing brace
	out = append(out, key...)
	out = append(out, b.DeviceTokens...)
	out = append(out, '"')
	if len(rest) > len("{}") {
		out = append(out, ',')
	}
	return append(out, rest[1:]...), nil // without its opening brace
}

// sendData is data of a SUCCESS answer to /api/send.
type sendData struct {
	MsgID  string `json:"msg_id"`
	TaskID string `json:"task_id"`
}

// Send delivers r with one Umeng call (two with an upload, then the
// filecast: StrategyFilecast, or more than MaxTokens tokens with
// Config.FilecastThreshold). Every check, including the payload size, runs
// before any network call: they are the checks of Validate, made by the
// same code. See the package documentation for how audiences map to cast
// types and how errors are classified.
//
// The receipt's ID is Umeng's task_id (Pollable) or msg_id (not pollable),
// and Raw is Umeng's answer. Umeng reports nothing per token, so Failures is
// always empty. A listcast Umeng answers with 4026 (sent to some tokens, not
// all, without saying which) is accepted: its receipt has Umeng's answer in
// Raw and an ID only if Umeng gave one, and no token is disabled, because
// resending any part of it would show the push twice.
func (c *Client) Send(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
	if c.unbuilt() {
		return nil, notBuilt(opSend)
	}
	app, body, tgt, err := c.prepare(opSend, r)
	if err != nil {
		return nil, err
	}
	if err := c.takeQuota(r.Platform, tgt); err != nil {
		return nil, err
	}
	if tgt.upload != nil {
		fileID, err := c.upload(ctx, r.Platform, app, tgt.upload, tgt.plainTokens)
		if err != nil {
			return nil, err
		}
		body.FileID = fileID
	}
	// The timestamp is taken last: Umeng honours it for ten minutes only.
	body.Timestamp = c.timestamp()
	b, err := body.encode()
	if err != nil {
		return nil, err
	}
	a, err := c.post(ctx, opSend, r.Platform, app, "/api/send", b)
	if err != nil {
		return nil, err
	}
	var d sendData
	if a.partial {
		// Sent to some tokens: an accepted push, final unless Umeng gave a
		// task to poll. No token is named, so none is disabled.
		_ = json.Unmarshal(a.data, &d)
		rc := &provider.Receipt{Provider: Name, Platform: r.Platform, Raw: a.raw, ID: d.MsgID}
		if d.TaskID != "" {
			rc.ID, rc.Pollable = d.TaskID, true
		}
		return rc, nil
	}
	if err := json.Unmarshal(a.data, &d); err != nil || (d.TaskID == "" && d.MsgID == "") {
		return nil, &provider.Error{
			Provider:   Name,
			Op:         opSend,
			Kind:       provider.Indeterminate,
			HTTPStatus: 200,
			Message:    "success answer without msg_id or task_id",
		}
	}
	rc := &provider.Receipt{Provider: Name, Platform: r.Platform, Raw: a.raw}
	if d.TaskID != "" {
		rc.ID, rc.Pollable = d.TaskID, true
	} else {
		rc.ID = d.MsgID
	}
	return rc, nil
}

// Validate returns the error Send would return for r before any network
// call, or nil when Send would make its call: it runs the same checks,
// through the same code, and throws the body away. That covers
// Request.Validate, the platform's credentials (Auth when missing), the
// audience and Umeng's list limits, the Options in Overrides["umeng"], the
// payload and its size limit, the iOS keys Umeng and APNs reserve ("aps",
// "d", "p") and the policy (start and expire times against the Client's
// clock, max_send_num). Field paths follow the scheme of package provider;
// a payload over its limit names its largest part (see the package
// documentation).
//
// Validate makes no network call (not even the upload of StrategyFilecast),
// takes no timestamp, has no side effect and is safe for concurrent use.
func (c *Client) Validate(r *provider.Request) error {
	if c.unbuilt() {
		return notBuilt(opValidate)
	}
	_, _, _, err := c.prepare(opValidate, r)
	return err
}

// prepare makes every check Send makes before the network and returns the
// app to send with, the send body and its target. It makes no network call,
// so the body lacks its timestamp and, with an upload pending, its file id.
// op is the Op of the error for an unconfigured platform.
func (c *Client) prepare(op string, r *provider.Request) (App, *sendBody, *target, error) {
	if err := r.Validate(); err != nil {
		return App{}, nil, nil, withProvider(err)
	}
	app, err := c.appFor(op, r.Platform)
	if err != nil {
		return App{}, nil, nil, err
	}
	body, tgt, err := c.buildSend(r, app)
	if err != nil {
		return App{}, nil, nil, err
	}
	return app, body, tgt, nil
}

// buildSend checks r against Umeng's rules and builds the send body, except
// for the timestamp and, with an upload pending, the file id.
func (c *Client) buildSend(r *provider.Request, app App) (*sendBody, *target, error) {
	own, err := optionsFrom(r.Overrides)
	if err != nil {
		return nil, nil, err
	}
	def := &app.Defaults
	classDef, classed := app.ClassDefaults[r.Notification.Class]
	if classed {
		def = mergeOptions(&app.Defaults, &classDef)
	}
	if own.ChannelProperties.HuaweiChannelCategory == "" && r.Platform == provider.Android {
		// The class's category comes before the app's defaults: a default
		// category (a service one, say) must not go out with marketing.
		// Only the push's own category, or its class's default, beats the
		// class's.
		cat := classDef.ChannelProperties.HuaweiChannelCategory
		if cat == "" {
			cat = provider.HuaweiCategory(r.Notification.Class, c.huawei)
		}
		if cat != "" {
			withCat := *own
			withCat.ChannelProperties.HuaweiChannelCategory = cat
			own = &withCat
		}
	}
	o := mergeOptions(def, own)
	if r.Notification.Badge != nil && own.IOSBadge == nil {
		// A default relative badge yields to the request's absolute one.
		o.IOSBadge = nil
	}
	tgt, err := buildTarget(&r.Audience, c.strategy, c.fileFrom)
	if err != nil {
		return nil, nil, err
	}
	payload, err := buildPayload(r, o)
	if err != nil {
		return nil, nil, err
	}
	pol, err := buildPolicy(r, o, tgt.task(), c.testMode, c.now())
	if err != nil {
		return nil, nil, err
	}
	b := &sendBody{
		sendHead:     sendHead{AppKey: app.AppKey, Type: tgt.cast},
		DeviceTokens: tgt.deviceTokens,
		plainTokens:  tgt.plainTokens,
	}
	b.sendRest = sendRest{
		AliasType:      tgt.aliasType,
		Alias:          tgt.alias,
		FileID:         tgt.fileID,
		Filter:         tgt.filter,
		GroupID:        tgt.groupID,
		Payload:        payload,
		Policy:         pol,
		ProductionMode: "true",
		Description:    r.Description,
	}
	if c.testMode {
		b.ProductionMode = "false"
	}
	if err := applyCommonOptions(b, o); err != nil {
		return nil, nil, err
	}
	if r.Platform == provider.Android {
		if err := applyAndroidOptions(b, o, &r.Notification); err != nil {
			return nil, nil, err
		}
	}
	return b, tgt, nil
}

func applyCommonOptions(b *sendBody, o *Options) error {
	if o.ReceiptURL != "" && !isHTTPURL(o.ReceiptURL) {
		return invalid("overrides.umeng.receipt_url", "must be an http or https URL")
	}
	switch o.ReceiptType {
	case 0, ReceiptArrival, ReceiptClick, ReceiptArrivalAndClick:
	default:
		return invalid("overrides.umeng.receipt_type", fmt.Sprintf("must be 1, 2 or 3, got %d", o.ReceiptType))
	}
	if o.ReceiptType != 0 && o.ReceiptURL == "" {
		return invalid("overrides.umeng.receipt_type", "needs receipt_url")
	}
	if len(o.CallbackParams) > 0 {
		cb := bytes.TrimSpace(o.CallbackParams)
		if !json.Valid(cb) || cb[0] != '{' {
			return invalid("overrides.umeng.callback_params", "must be a JSON object")
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, cb); err != nil {
			return invalid("overrides.umeng.callback_params", "must be a JSON object")
		}
		b.CallbackParams = compact.Bytes()
	}
	b.ReceiptURL = o.ReceiptURL
	if o.ReceiptType != 0 {
		b.ReceiptType = strconv.Itoa(int(o.ReceiptType))
	}
	return nil
}

// applyAndroidOptions sets the Android-only top-level fields: Umeng's
// category and the Huawei importance from the message class (buildSend
// has set the Huawei category the class implies), the channel and local
// properties and the legacy mipush switch.
func applyAndroidOptions(b *sendBody, o *Options, n *provider.Notification) error {
	category, importance, classed := classCategory(n.Class)
	if classed {
		b.Category = &category
	}
	message := displayType(n, o) == DisplayMessage
	cp, err := buildChannelProperties(&o.ChannelProperties, importance, message, b.Category)
	if err != nil {
		return err
	}
	b.ChannelProperties = cp
	if b.LocalProperties, err = buildLocalProperties(&o.LocalProperties); err != nil {
		return err
	}
	if o.MiActivity != "" && !o.MiPush {
		return invalid("overrides.umeng.mi_activity", "needs mipush")
	}
	if o.MiPush {
		b.MiPush = "true"
		b.MiActivity = o.MiActivity
	}
	return nil
}

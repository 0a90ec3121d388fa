package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Device is what a mobile app submits when it registers (the product brief's
// POST /api/v1.1/app/device).
type Device struct {
	UserNum      string // the user logging in on the device
	UUID         string // app-generated device id
	PushToken    string // token from the vendor's SDK
	PushPlatform string // vendor name; "" means the Service's default provider
	Name         string // the device's user-visible name
	Platform     string // "ios" or "android"
	OS           string
	OSVersion    string
}

// Registration is the result of RegisterDevice.
type Registration struct {
	DeviceUUID   string // the product brief's device_uuid
	UserDeviceID int64  // the product brief's user_device_id
	DeviceID     int64
}

// RegisterDevice upserts the device by (platform, uuid), links it to the
// user and logs every other user out of it, in one transaction. Surrounding
// white space is trimmed from every field, as Push and the Scanner trim
// user_nums.
// Re-registering re-enables a token the vendor had reported invalid. The
// platform ("ios", "android") and the push_platform are matched in any
// case. The push_platform must name a configured provider that serves the platform
// (a Umeng client with only its iOS app configured takes no Android
// device), and the push_token must be made of the characters vendors'
// tokens are (registry.ValidatePushToken) and, when the provider is a
// provider.TokenChecker (the Umeng, JPush and Getui clients are), have the
// shape of its vendor's tokens: a device no push could reach is refused,
// not stored. A provider.TokenCanonicalizer's token is stored in its one
// spelling (the Umeng client's iOS tokens in lower case).
func (s *Service) RegisterDevice(ctx context.Context, d Device) (Registration, error) {
	if s.unbuilt() {
		return Registration{}, notBuilt("Service.RegisterDevice", "push.New")
	}
	for _, f := range []*string{&d.UserNum, &d.UUID, &d.PushToken, &d.PushPlatform, &d.Name, &d.Platform, &d.OS, &d.OSVersion} {
		*f = strings.TrimSpace(*f)
	}
	// "iOS" and "Umeng" are what clients send, and rows other programs
	// wrote say; they are stored as the providers spell them.
	d.Platform = strings.ToLower(d.Platform)
	d.PushPlatform = s.providerName(d.PushPlatform)
	if _, err := provider.ParsePlatform(d.Platform); err != nil {
		return Registration{}, invalid("platform", "must be %q or %q, got %q", provider.IOS, provider.Android, registry.Clip(d.Platform, 32))
	}
	pp := d.PushPlatform
	if pp == "" {
		pp = s.def
	}
	if _, ok := s.providers[pp]; !ok {
		return Registration{}, invalid("push_platform", "%q is not a configured provider (configured: %v)", registry.Clip(d.PushPlatform, 32), s.names)
	}
	if !s.serves(pp, provider.Platform(d.Platform)) {
		// Stored, the device would be skipped by every push.
		return Registration{}, invalid("platform", "provider %q does not serve %q devices here (it serves %v)", pp, d.Platform, s.platformsOf(pp))
	}
	if spell := s.canonicalizer(pp, d.Platform); spell != nil {
		// One phone, one spelling: an iOS token sent in upper case by one
		// install and in lower case by the next is taken over, not kept
		// as a second phone.
		d.PushToken = spell(d.PushToken)
	}
	row := &registry.Device{
		UUID: d.UUID, Platform: d.Platform, PushToken: d.PushToken, PushPlatform: pp,
		Name: d.Name, OS: d.OS, OSVersion: d.OSVersion,
	}
	if err := registry.ValidateRegistration(row, d.UserNum); err != nil {
		return Registration{}, fromRegistry(err)
	}
	if tc, ok := s.providers[pp].(provider.TokenChecker); ok {
		if err := tc.CheckToken(provider.Platform(d.Platform), d.PushToken); err != nil {
			return Registration{}, invalid("push_token", "%s", err)
		}
	}
	dev, link, err := s.store.RegisterDevice(ctx, row, d.UserNum)
	if err != nil {
		return Registration{}, fmt.Errorf("push: register device: %w", fromRegistry(err))
	}
	if alt := s.upperSpelling(pp, d.Platform, d.PushToken); alt != "" {
		// Rows that hold the token in upper case, which another program
		// (or, during a rolling upgrade, an instance of a release before
		// migration 16) may write, are older installs of this phone: they
		// are taken over as the Store takes over those that spell it as
		// stored. A failure fails the call, which the client repeats.
		if _, err := s.store.DisableTokens(ctx, pp, d.Platform, []string{alt}, registry.TokenTakenOver); err != nil {
			return Registration{}, fmt.Errorf("push: register device: take over the token's upper-case spelling: %w", fromRegistry(err))
		}
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "device registered",
		slog.Int64("device_id", dev.ID), slog.Int64("user_device_id", link.ID),
		slog.String("platform", dev.Platform), slog.String("push_platform", dev.PushPlatform))
	return Registration{DeviceUUID: dev.UUID, UserDeviceID: link.ID, DeviceID: dev.ID}, nil
}

// upperSpelling returns token in upper case when provider name spells
// tokens of platform one way (provider.TokenCanonicalizer), token is that
// spelling, and the upper case is another spelling of the same token (a
// Umeng iOS token in hex); otherwise "".
func (s *Service) upperSpelling(name, platform, token string) string {
	spell := s.canonicalizer(name, platform)
	if spell == nil {
		return ""
	}
	if up := strings.ToUpper(token); up != token && spell(up) == token {
		return up
	}
	return ""
}

// Logout deactivates the user-device link userDeviceID of userNum. It fails
// with registry.ErrNotFound when the link does not exist and
// registry.ErrNotOwner when it belongs to another user; logging out twice
// succeeds. A blank userNum or a userDeviceID below 1 is a *FieldError
// (ErrInvalid), not ErrNotFound.
func (s *Service) Logout(ctx context.Context, userNum string, userDeviceID int64) error {
	if s.unbuilt() {
		return notBuilt("Service.Logout", "push.New")
	}
	userNum = strings.TrimSpace(userNum)
	if userNum == "" {
		return invalid("user_num", "is required")
	}
	if userDeviceID <= 0 {
		return invalid("user_device_id", "must be a positive id")
	}
	if err := s.store.DeactivateLink(ctx, userNum, userDeviceID); err != nil {
		return fmt.Errorf("push: logout: %w", err)
	}
	return nil
}

// fromRegistry turns a registry validation error into a *FieldError with
// the same field, so callers see one error type for bad input.
func fromRegistry(err error) error {
	var ve *registry.ValidationError
	if errors.As(err, &ve) {
		return &FieldError{Field: ve.Field, Reason: ve.Reason}
	}
	return err
}

// providerName is the configured provider that name, a push_platform a
// client sent or a row holds, names: the provider of that exact name, or
// else the one whose name it matches in any case without surrounding
// spaces ("Umeng", which clients send and rows other programs wrote say);
// otherwise name as it is.
func (s *Service) providerName(name string) string {
	if _, ok := s.providers[name]; ok {
		return name
	}
	trimmed := strings.TrimSpace(name)
	for _, n := range s.names {
		if strings.EqualFold(n, trimmed) {
			return n
		}
	}
	return name
}

package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tuisong/push/registry"
)

// RegisterDevice implements registry.Devices: it upserts d by (Platform,
// UUID) and makes userNum the device's only active user. An empty
// PushPlatform is stored as registry.DefaultPushPlatform; trailing spaces of
// UUID, PushPlatform and userNum are dropped. d is not modified.
func (s *Store) RegisterDevice(ctx context.Context, d *registry.Device, userNum string) (registry.Device, registry.UserDevice, error) {
	if s.unbuilt() {
		return registry.Device{}, registry.UserDevice{}, notBuilt("Store.RegisterDevice")
	}
	const op = "RegisterDevice"
	if err := begin(ctx, op); err != nil {
		return registry.Device{}, registry.UserDevice{}, err
	}
	if err := registry.ValidateDevice(d, userNum); err != nil {
		return registry.Device{}, registry.UserDevice{}, wrap(op, err)
	}
	uuid, userNum := unpad(d.UUID), unpad(userNum)
	pushPlatform := unpad(d.PushPlatform)
	if pushPlatform == "" {
		pushPlatform = registry.DefaultPushPlatform
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.stamp()

	key := deviceKey{platform: d.Platform, uuid: uuid}
	dev, ok := s.deviceByKey[key]
	if !ok {
		s.lastDevice++
		dev = &registry.Device{
			ID:        s.lastDevice,
			UUID:      uuid,
			Platform:  d.Platform,
			Alias:     d.Alias,
			CreatedAt: now,
		}
		s.devices[dev.ID] = dev
		s.deviceByKey[key] = dev
	}
	dev.PushToken = d.PushToken
	dev.PushPlatform = pushPlatform
	dev.Name = d.Name
	dev.OS = d.OS
	dev.OSVersion = d.OSVersion
	dev.TokenDisabledAt = nil
	dev.TokenDisabledReason = ""
	dev.UpdatedAt = now
	for _, other := range s.devices {
		if other.ID != dev.ID && holds(other, pushPlatform, dev.Platform, map[string]bool{dev.PushToken: true}) {
			disabledAt := now
			other.TokenDisabledAt = &disabledAt
			other.TokenDisabledReason = registry.TokenTakenOver
			other.UpdatedAt = now
		}
	}

	// One active user per device: whoever registers the device last is
	// its user; every other user's link to it is logged out.
	for _, l := range s.linksByDevice[dev.ID] {
		if l.UserNum != userNum && l.Active {
			l.Active = false
			l.UpdatedAt = now
		}
	}
	pair := linkKey{userNum: userNum, deviceID: dev.ID}
	link, ok := s.linkByPair[pair]
	if !ok {
		link = &registry.UserDevice{
			ID:        int64(len(s.links)) + 1,
			UserNum:   userNum,
			DeviceID:  dev.ID,
			CreatedAt: now,
		}
		s.links = append(s.links, link)
		s.linkByID[link.ID] = link
		s.linkByPair[pair] = link
		s.linksByDevice[dev.ID] = append(s.linksByDevice[dev.ID], link)
		s.linksByUser[userNum] = append(s.linksByUser[userNum], link)
	}
	link.Active = true
	link.UpdatedAt = now
	return cloneDevice(dev), *link, nil
}

// GetDevice implements registry.Devices.
func (s *Store) GetDevice(ctx context.Context, id int64) (registry.Device, error) {
	if s.unbuilt() {
		return registry.Device{}, notBuilt("Store.GetDevice")
	}
	const op = "GetDevice"
	if err := begin(ctx, op); err != nil {
		return registry.Device{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dev, ok := s.devices[id]
	if !ok {
		return registry.Device{}, wrap(op, fmt.Errorf("device %d: %w", id, registry.ErrNotFound))
	}
	return cloneDevice(dev), nil
}

// GetUserDevice implements registry.Devices.
func (s *Store) GetUserDevice(ctx context.Context, id int64) (registry.UserDevice, error) {
	if s.unbuilt() {
		return registry.UserDevice{}, notBuilt("Store.GetUserDevice")
	}
	const op = "GetUserDevice"
	if err := begin(ctx, op); err != nil {
		return registry.UserDevice{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	link, ok := s.linkByID[id]
	if !ok {
		return registry.UserDevice{}, wrap(op, fmt.Errorf("user device %d: %w", id, registry.ErrNotFound))
	}
	return *link, nil
}

// DeactivateLink implements registry.Devices. userNum is compared without
// trailing spaces.
func (s *Store) DeactivateLink(ctx context.Context, userNum string, userDeviceID int64) error {
	if s.unbuilt() {
		return notBuilt("Store.DeactivateLink")
	}
	const op = "DeactivateLink"
	if err := begin(ctx, op); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	link, ok := s.linkByID[userDeviceID]
	if !ok {
		return wrap(op, fmt.Errorf("user device %d: %w", userDeviceID, registry.ErrNotFound))
	}
	if link.UserNum != unpad(userNum) {
		return wrap(op, fmt.Errorf("user device %d: %w", userDeviceID, registry.ErrNotOwner))
	}
	if link.Active {
		link.Active = false
		link.UpdatedAt = s.stamp()
	}
	return nil
}

var _ registry.TargetCensus = (*Store)(nil)

// TakeCensus implements registry.TargetCensus by declining, always (nil,
// and ctx's error when it has ended): the devices a Store links and
// registers never share a token or an active link, so ListTargets has no
// checks a census would save.
func (s *Store) TakeCensus(ctx context.Context, users int) (*registry.Census, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.TakeCensus")
	}
	return nil, begin(ctx, "TakeCensus")
}

// ListTargets implements registry.Devices. A negative q.Limit is an
// ErrInvalid for field "limit". User nums are matched without trailing
// spaces.
func (s *Store) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListTargets")
	}
	const op = "ListTargets"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	if q.Limit < 0 {
		return nil, wrap(op, &registry.ValidationError{Field: "limit", Reason: fmt.Sprintf("must not be negative, got %d", q.Limit)})
	}
	limit := q.Limit
	if limit == 0 {
		limit = registry.DefaultPageSize
	}
	if len(q.UserNums) == 0 {
		return nil, nil
	}
	users := make(map[string]bool, len(q.UserNums))
	for _, u := range q.UserNums {
		users[unpad(u)] = true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var links []*registry.UserDevice
	for u := range users {
		for _, l := range s.linksByUser[u] {
			if l.ID > q.AfterUserDeviceID && l.Active {
				links = append(links, l)
			}
		}
	}
	slices.SortFunc(links, func(a, b *registry.UserDevice) int { return cmp.Compare(a.ID, b.ID) })
	var page []registry.Target
	for _, l := range links {
		if len(page) == limit {
			break
		}
		dev := s.devices[l.DeviceID]
		platform, ok := platformOf(dev.Platform)
		if !ok || dev.PushToken == "" || dev.TokenDisabledAt != nil {
			continue
		}
		page = append(page, registry.Target{
			UserDeviceID: l.ID,
			UserNum:      l.UserNum,
			DeviceID:     dev.ID,
			Platform:     platform,
			PushPlatform: dev.PushPlatform,
			Token:        dev.PushToken,
		})
	}
	return page, nil
}

// DisableTokens implements registry.Devices. An empty pushPlatform means
// registry.DefaultPushPlatform, as in RegisterDevice. platform is compared
// in lower case without surrounding spaces, pushPlatform and tokens without
// trailing spaces. Devices whose token is disabled already keep their
// first disablement and are not counted.
func (s *Store) DisableTokens(ctx context.Context, pushPlatform, platform string, tokens []string, reason string) (int64, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.DisableTokens")
	}
	const op = "DisableTokens"
	if err := begin(ctx, op); err != nil {
		return 0, err
	}
	if len(tokens) == 0 {
		return 0, nil
	}
	pushPlatform = unpad(pushPlatform)
	if pushPlatform == "" {
		pushPlatform = registry.DefaultPushPlatform
	}
	platform, _ = platformOf(platform)
	set := tokenSet(tokens)

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.stamp()
	var n int64
	for _, dev := range s.devices {
		if !holds(dev, pushPlatform, platform, set) {
			continue
		}
		at := now
		dev.TokenDisabledAt = &at
		dev.TokenDisabledReason = reason
		dev.UpdatedAt = now
		n++
	}
	return n, nil
}

// tokenSet is the set of tokens, without the spaces around them (as the
// SQL store compares them), blanks left out.
func tokenSet(tokens []string) map[string]bool {
	set := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		if t = strings.Trim(t, " "); t != "" {
			set[t] = true
		}
	}
	return set
}

// holds reports whether dev is an enabled device of (pushPlatform,
// platform) whose token is in tokens: the devices DisableTokens and the
// token takeover of RegisterDevice reach.
//
// Push platforms are compared as the SQL store compares them: without case
// or surrounding spaces, empty as registry.DefaultPushPlatform.
func holds(dev *registry.Device, pushPlatform, platform string, tokens map[string]bool) bool {
	p, _ := platformOf(dev.Platform)
	return dev.TokenDisabledAt == nil && tokens[dev.PushToken] && p == platform && samePushPlatform(dev.PushPlatform, pushPlatform)
}

// samePushPlatform reports whether a and b name one push platform.
func samePushPlatform(a, b string) bool {
	norm := func(pp string) string {
		if pp, _ = platformOf(pp); pp == "" {
			return registry.DefaultPushPlatform
		}
		return pp
	}
	return norm(a) == norm(b)
}

package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// BenchmarkClaimCenterMessages measures one claim of a batch of 100 due
// rows (and finishing them) from a table that already holds 10,000 sent
// rows: the per-tick query must not grow with the table.
func BenchmarkClaimCenterMessages(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			s := dbtest.NewStore(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			enqueue := func(n int) {
				for i := range n {
					m := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: fmt.Sprint("u", i)}
					if err := s.EnqueueCenterMessage(ctx, &m); err != nil {
						b.Fatal(err)
					}
				}
			}
			finish := func(rows []registry.CenterMessage) {
				for i := range rows {
					rows[i].SendState = registry.SendStateSent
					if err := s.FinishCenterMessage(ctx, &rows[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			enqueue(10000)
			for {
				rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 500, Lease: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) == 0 {
					break
				}
				finish(rows)
			}
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				enqueue(100)
				b.StartTimer()
				rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 100, Lease: time.Minute})
				if err != nil || len(rows) != 100 {
					b.Fatalf("claimed %d: %v", len(rows), err)
				}
				b.StopTimer()
				finish(rows)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkFinishDelivery measures one FinishDelivery of a push to 200,000
// devices: 400 deliveries of 500 tokens on one platform (issue #9). Each
// finish records a poll outcome of one delivery; between finishes (outside
// the timer) the delivery is claimed again by hand. Recording an outcome
// must cost the same whatever the size of the push.
func BenchmarkFinishDelivery(b *testing.B) {
	const deliveries, tokens = 400, 500
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			s, db := dbtest.NewStoreDB(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			lease := now.Add(time.Hour)
			ds := make([]*registry.Delivery, deliveries)
			for i := range ds {
				ts := make([]string, tokens)
				for j := range ts {
					ts[j] = fmt.Sprintf("tok%040d", i*tokens+j)
				}
				ds[i] = &registry.Delivery{Provider: "umeng", Platform: registry.PlatformAndroid, Seq: i,
					Audience: registry.AudienceTokens, Tokens: ts, IdempotencyKey: fmt.Sprint("bench-", i),
					State: registry.DeliveryPending, NextAttemptAt: now, ClaimToken: fmt.Sprint("claim-", i), LeaseUntil: &lease}
			}
			m := registry.PushMessage{Title: "bench", Content: "c", PushType: registry.PushTypeUsers}
			if err := s.CreatePushMessage(ctx, &m, ds); err != nil {
				b.Fatal(err)
			}
			reclaim, err := db.Prepare(dbtest.Rebind(d, "UPDATE sys_push_deliveries SET claim_token = ? WHERE id = ?"))
			if err != nil {
				b.Fatal(err)
			}
			defer reclaim.Close()
			b.ResetTimer()
			n := 0
			for b.Loop() {
				i := n % deliveries
				n++
				out := *ds[i]
				out.Tokens = nil
				out.State, out.Pollable, out.VendorState = registry.DeliveryAccepted, true, "queued"
				out.ReceiptID, out.Ret, out.Response = fmt.Sprint("uf-", i), registry.RetSuccess, `{"ret":"SUCCESS"}`
				sent := now.Add(time.Duration(n) * time.Millisecond)
				out.SentAt, out.NextAttemptAt = &sent, now.Add(time.Minute)
				if err := s.FinishDelivery(ctx, &out); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if _, err := reclaim.Exec(ds[i].ClaimToken, ds[i].ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkClaimDeliveries measures one claim of 100 due deliveries from a
// table that holds 20,000 finished ones, as RetryPending makes it. Between
// claims (outside the timer) the claimed deliveries are released by hand.
func BenchmarkClaimDeliveries(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) { benchClaimDeliveries(b, d, false) })
		// backlog: 20,000 more pending deliveries due only tomorrow, as
		// after a vendor outage; the claim finds the 100 due ones among them.
		b.Run(string(d)+"/backlog", func(b *testing.B) { benchClaimDeliveries(b, d, true) })
	}
}

func benchClaimDeliveries(b *testing.B, d sqlstore.Dialect, backlog bool) {
	{
		{
			s, db := dbtest.NewStoreDB(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			messages := 201
			if backlog {
				messages += 200
			}
			for m := range messages {
				ds := make([]*registry.Delivery, 100)
				state, next := registry.DeliveryDone, now
				switch {
				case m == 200:
					state = registry.DeliveryPending // the 100 due ones
				case m > 200:
					state, next = registry.DeliveryPending, now.Add(24*time.Hour)
				}
				for i := range ds {
					ds[i] = &registry.Delivery{Provider: "umeng", Platform: registry.PlatformAndroid, Seq: i,
						Audience: registry.AudienceTokens, Tokens: []string{fmt.Sprintf("tok%d-%d", m, i)},
						IdempotencyKey: fmt.Sprintf("bench-%d-%d", m, i), State: state, NextAttemptAt: next}
				}
				msg := registry.PushMessage{Title: "bench", Content: "c", PushType: registry.PushTypeUsers}
				if err := s.CreatePushMessage(ctx, &msg, ds); err != nil {
					b.Fatal(err)
				}
			}
			release, err := db.Prepare(dbtest.Rebind(d, "UPDATE sys_push_deliveries SET claim_token = NULL, lease_until = NULL WHERE state = ?"))
			if err != nil {
				b.Fatal(err)
			}
			defer release.Close()
			limit := 100
			if backlog {
				limit = 200 // more than are due: the claim looks past them
			}
			b.ResetTimer()
			for b.Loop() {
				got, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: now, Limit: limit, Lease: time.Minute, Kind: registry.ClaimSend})
				if err != nil || len(got) != 100 {
					b.Fatalf("claimed %d: %v", len(got), err)
				}
				b.StopTimer()
				if _, err := release.Exec(string(registry.DeliveryPending)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		}
	}
}

// BenchmarkFinishCenterMessage measures FinishCenterMessage of claimed
// rows, one at a time ("serial") and from 16 goroutines at once
// ("parallel16", where concurrent finishes share transactions). Rows are
// enqueued and claimed outside the timer.
func BenchmarkFinishCenterMessage(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		for _, par := range []int{1, 16} {
			name := "serial"
			if par > 1 {
				name = fmt.Sprint("parallel", par)
			}
			b.Run(string(d)+"/"+name, func(b *testing.B) {
				s := dbtest.NewStore(b, d)
				ctx := context.Background()
				now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
				claim := func() []registry.CenterMessage {
					for i := range 64 {
						m := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: fmt.Sprint("u", i)}
						if err := s.EnqueueCenterMessage(ctx, &m); err != nil {
							b.Fatal(err)
						}
					}
					rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 64, Lease: time.Hour})
					if err != nil || len(rows) != 64 {
						b.Fatalf("claimed %d: %v", len(rows), err)
					}
					return rows
				}
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer()
					rows := claim()
					b.StartTimer()
					var wg sync.WaitGroup
					next := make(chan *registry.CenterMessage, len(rows))
					for i := range rows {
						rows[i].SendState, rows[i].SendResult = registry.SendStateSent, "push_message#1"
						next <- &rows[i]
					}
					close(next)
					for range par {
						wg.Go(func() {
							for m := range next {
								if err := s.FinishCenterMessage(ctx, m); err != nil {
									b.Error(err)
								}
							}
						})
					}
					wg.Wait()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/row")
			})
		}
	}
}

// batchCalls is how many calls BenchmarkGroupWrites makes at once per op:
// a whole batch of a group-commit queue.
const batchCalls = 64

// runConcurrently runs call(i) for i in [0, n) from n goroutines at once.
func runConcurrently(b *testing.B, n int, call func(i int) error) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := call(i); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
}

// BenchmarkGroupWrites measures 64 concurrent calls per op of
// FinishCenterMessage ("center"), FinishDelivery ("finish": 8 messages of
// 4 iOS and 4 Android deliveries each) and CreatePushMessage ("create":
// one iOS and one Android delivery each, half of them with a dedupe key),
// the calls a Scanner makes at once, which the Store writes in shared
// transactions (issue #9). What each op needs (rows enqueued and claimed,
// deliveries claimed again) is set up outside the timer.
func BenchmarkGroupWrites(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d)+"/center", func(b *testing.B) {
			s := dbtest.NewStore(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			for b.Loop() {
				b.StopTimer()
				for i := range batchCalls {
					m := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: fmt.Sprint("u", i)}
					if err := s.EnqueueCenterMessage(ctx, &m); err != nil {
						b.Fatal(err)
					}
				}
				rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: batchCalls, Lease: time.Hour})
				if err != nil || len(rows) != batchCalls {
					b.Fatalf("claimed %d: %v", len(rows), err)
				}
				b.StartTimer()
				runConcurrently(b, len(rows), func(i int) error {
					m := &rows[i]
					m.SendState, m.SendResult, m.Attempts = registry.SendStateSent, fmt.Sprint("push_message#", m.ID), m.Attempts+1
					return s.FinishCenterMessage(ctx, m)
				})
			}
		})
		b.Run(string(d)+"/finish", func(b *testing.B) {
			s, db := dbtest.NewStoreDB(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			lease := now.Add(time.Hour)
			var ds []*registry.Delivery
			for m := range batchCalls / 8 {
				var msgDs []*registry.Delivery
				for i := range 8 {
					platform := registry.PlatformIOS
					if i%2 == 1 {
						platform = registry.PlatformAndroid
					}
					msgDs = append(msgDs, &registry.Delivery{Provider: "umeng", Platform: platform, Seq: i / 2,
						Audience: registry.AudienceTokens, Tokens: []string{fmt.Sprintf("tok-%d-%d", m, i)},
						IdempotencyKey: fmt.Sprintf("bench-%d-%d", m, i), State: registry.DeliveryPending, NextAttemptAt: now,
						ClaimToken: "claim", LeaseUntil: &lease})
				}
				msg := registry.PushMessage{Title: "bench", Content: "c", PushType: registry.PushTypeUsers}
				if err := s.CreatePushMessage(ctx, &msg, msgDs); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, msgDs...)
			}
			reclaim, err := db.Prepare("UPDATE sys_push_deliveries SET claim_token = 'claim'")
			if err != nil {
				b.Fatal(err)
			}
			defer reclaim.Close()
			n := 0
			for b.Loop() {
				n++
				runConcurrently(b, len(ds), func(i int) error {
					out := *ds[i]
					out.Tokens = nil
					out.State, out.Pollable, out.VendorState = registry.DeliveryAccepted, true, "queued"
					out.ReceiptID, out.Ret, out.Response = fmt.Sprint("uf-", i), registry.RetSuccess, `{"ret":"SUCCESS"}`
					sent := now.Add(time.Duration(n) * time.Millisecond)
					out.SentAt, out.NextAttemptAt, out.Attempts = &sent, now.Add(time.Minute), n
					return s.FinishDelivery(ctx, &out)
				})
				b.StopTimer()
				if _, err := reclaim.Exec(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
		b.Run(string(d)+"/create", func(b *testing.B) {
			s := dbtest.NewStore(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			n := 0
			for b.Loop() {
				n++
				runConcurrently(b, batchCalls, func(i int) error {
					m := registry.PushMessage{Title: "bench", Content: "c", PushType: registry.PushTypeUsers,
						UserNums: []string{fmt.Sprint("A", i), fmt.Sprint("B", i)}}
					if i%2 == 0 {
						m.DedupeKey = fmt.Sprintf("dedupe-%d-%d", n, i)
					}
					ds := []*registry.Delivery{
						{Provider: "umeng", Platform: registry.PlatformIOS, Audience: registry.AudienceTokens,
							Tokens: []string{fmt.Sprintf("ios-%d-%d", n, i)}, IdempotencyKey: fmt.Sprintf("ios-%d-%d", n, i),
							State: registry.DeliveryPending, NextAttemptAt: now},
						{Provider: "umeng", Platform: registry.PlatformAndroid, Audience: registry.AudienceTokens,
							Tokens: []string{fmt.Sprintf("and-%d-%d", n, i)}, IdempotencyKey: fmt.Sprintf("and-%d-%d", n, i),
							State: registry.DeliveryPending, NextAttemptAt: now},
					}
					return s.CreatePushMessage(ctx, &m, ds)
				})
			}
		})
	}
}

// BenchmarkListTargets measures ListTargets as Service.Push pages through
// a large audience (issue #9): one op reads the targets of 20,000 users
// with two devices each, 500 users per call, each call paging with the
// limit given until a short page. limit=1000 is the default page, which a
// chunk of 500 users with two devices each fills exactly, so that every
// chunk costs a second, empty query; limit=4000 reads each chunk in one.
func BenchmarkListTargets(b *testing.B) {
	const users, perUser, chunk = 20000, 2, 500
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			s, db := dbtest.NewStoreDB(b, d)
			ctx := context.Background()
			nums := seedTargets(b, db, d, users, perUser)
			for _, tc := range []struct {
				limit  int
				census bool
			}{{registry.DefaultPageSize, false}, {4000, false}, {4000, true}} {
				name := fmt.Sprint("limit=", tc.limit)
				if tc.census {
					name += "/census" // taken once a listing, as push.Service does
				}
				limit := tc.limit
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						got := 0
						var census *registry.Census
						if tc.census {
							var err error
							if census, err = s.TakeCensus(ctx, users); err != nil || census == nil {
								b.Fatalf("census: %v, %v", census, err)
							}
						}
						for start := 0; start < len(nums); start += chunk {
							q := registry.TargetQuery{UserNums: nums[start:min(start+chunk, len(nums))], Limit: limit, Census: census}
							for {
								page, err := s.ListTargets(ctx, q)
								if err != nil {
									b.Fatal(err)
								}
								got += len(page)
								if len(page) < limit {
									break
								}
								q.AfterUserDeviceID = page[len(page)-1].UserDeviceID
							}
						}
						if got != users*perUser {
							b.Fatalf("listed %d targets, want %d", got, users*perUser)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(users*perUser), "ns/target")
				})
			}
		})
	}
}

// seedTargets writes users with perUser active devices each (even ones
// iOS, odd ones Android, all on Umeng) with raw SQL in one transaction,
// and returns the users' nums.
func seedTargets(b *testing.B, db *sql.DB, d sqlstore.Dialect, users, perUser int) []string {
	b.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	const perStmt = 200
	now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
	nums := make([]string, users)
	var devs, links []any
	flush := func() {
		n := len(devs) / 6
		if n == 0 {
			return
		}
		devRow := "(?, ?, ?, ?, ?, 'umeng', ?, ?)"
		linkRow := "(?, ?, ?, 1, ?, ?)"
		q := "INSERT INTO sys_devices (id, name, platform, uuid, push_device_token, push_platform, created_at, updated_at) VALUES " +
			strings.TrimSuffix(strings.Repeat(devRow+",", n), ",")
		args := make([]any, 0, n*7)
		for i := 0; i < n; i++ {
			args = append(args, devs[i*6:i*6+5]...)
			args = append(args, devs[i*6+5], devs[i*6+5])
		}
		if _, err := tx.ExecContext(ctx, dbtest.Rebind(d, q), args...); err != nil {
			b.Fatal(err)
		}
		q = "INSERT INTO sys_user_devices (id, user_num, device_id, state, created_at, updated_at) VALUES " +
			strings.TrimSuffix(strings.Repeat(linkRow+",", n), ",")
		if _, err := tx.ExecContext(ctx, dbtest.Rebind(d, q), links...); err != nil {
			b.Fatal(err)
		}
		devs, links = devs[:0], links[:0]
	}
	id := 0
	for u := range users {
		nums[u] = fmt.Sprintf("u%07d", u)
		for j := range perUser {
			id++
			platform := registry.PlatformIOS
			if j%2 == 1 {
				platform = registry.PlatformAndroid
			}
			uuid := fmt.Sprintf("%s-%d", nums[u], j)
			devs = append(devs, id, "bench", platform, uuid, fmt.Sprintf("%064x", id), now)
			links = append(links, id, nums[u], id, now, now)
			if len(devs)/6 == perStmt {
				flush()
			}
		}
	}
	flush()
	if d == sqlstore.DialectPostgres {
		for _, t := range []string{"sys_devices", "sys_user_devices"} {
			if _, err := tx.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+t+"', 'id'), "+fmt.Sprint(id+1)+", false)"); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return nums
}

// BenchmarkRecordReceipts measures one device's receipt of a delivery to
// 40,000 tokens (a filecast's), as a vendor posts one per device: the
// token is looked for in the delivery's list. Tokens cycle, so after the
// first lap a receipt is a repeat that adds nothing.
func BenchmarkRecordReceipts(b *testing.B) {
	const tokens = 40000
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			s, _ := dbtest.NewStoreDB(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			ts := make([]string, tokens)
			for j := range ts {
				ts[j] = fmt.Sprintf("tok%041d", j)
			}
			dl := &registry.Delivery{Provider: "umeng", Platform: registry.PlatformAndroid, Audience: registry.AudienceTokens, Tokens: ts,
				IdempotencyKey: "bench-file", State: registry.DeliveryAccepted, NextAttemptAt: now, ReceiptID: "uf-file", Ret: registry.RetSuccess}
			m := registry.PushMessage{Title: "bench", Content: "c", PushType: registry.PushTypeUsers}
			if err := s.CreatePushMessage(ctx, &m, []*registry.Delivery{dl}); err != nil {
				b.Fatal(err)
			}
			n := 0
			for b.Loop() {
				if err := s.RecordReceipts(ctx, "umeng", "uf-file", ts[(n*7919)%tokens], registry.ReceiptCounts{Arrived: 1}); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

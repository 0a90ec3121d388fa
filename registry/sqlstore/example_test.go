package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// A host opens its database, builds a Store for its dialect, migrates once
// at start-up and registers devices. Registering a device for a second
// user logs the first one out of it.
func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "push.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	phone := &registry.Device{UUID: "3F2504E0", Platform: registry.PlatformIOS, PushToken: "a1b2c3", Name: "张三的 iPhone"}
	for _, user := range []string{"A001", "A002"} {
		if _, _, err := store.RegisterDevice(ctx, phone, user); err != nil {
			log.Fatal(err)
		}
	}
	targets, err := store.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"A001", "A002"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range targets {
		fmt.Println(t.UserNum, t.Platform, t.PushPlatform, t.Token)
	}
	// Output:
	// A002 ios umeng a1b2c3
}

// A host enqueues a center message in the same transaction as its own
// write, so that either both happen or neither does.
func ExampleStore_WithTx() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "push.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_num TEXT)"); err != nil {
		log.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, "INSERT INTO orders (user_num) VALUES ('A001')"); err != nil {
		log.Fatal(err)
	}
	msg := &registry.CenterMessage{Title: "新订单", Content: "您有一笔新订单", NotifyMode: "push", Receivers: "A001"}
	if err := store.WithTx(tx).EnqueueCenterMessage(ctx, msg); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	got, err := store.GetCenterMessage(ctx, msg.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.ID, got.Title, got.Receivers, got.SendState == registry.SendStateUnsent)
	// Output:
	// 1 新订单 A001 true
}

func ExampleSQLiteDSN() {
	fmt.Println(sqlstore.SQLiteDSN("/var/lib/push/push.db"))
	// Output:
	// file:/var/lib/push/push.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate
}

// A host logs what its start-up migration applied: nothing when the
// database was up to date or another instance starting at the same moment
// applied it first.
func ExampleStore_MigrateReport() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "push.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		res, err := store.MigrateReport(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		if len(res.Applied) == 0 {
			fmt.Printf("%s: version %d, up to date\n", res.Component, res.To)
			continue
		}
		fmt.Printf("%s: from version %d to %d, first %s\n", res.Component, res.From, res.To, res.Applied[0])
	}
	// Output:
	// push: from version 0 to 16, first 0001_brief_tables
	// push: version 16, up to date
}

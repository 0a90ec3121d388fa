module github.com/tuisong/push

go 1.26.0

require (
	github.com/DATA-DOG/go-sqlmock v1.5.2
	github.com/go-resty/resty/v2 v2.17.2
	github.com/go-sql-driver/mysql v1.10.1
	github.com/jackc/pgx/v5 v5.13.0
	github.com/jarcoal/httpmock v1.4.2
	github.com/stretchr/testify v1.12.1
	golang.org/x/time v0.16.0
	modernc.org/sqlite v1.62.0
)

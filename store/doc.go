// Package store keeps onair's durable state (live inputs and their
// credentials) in a SQLite file. Every write is committed, and synced to disk,
// before the method that made it returns, so that an API client that saw a
// write acknowledged finds it again after a crash of the process.
package store

# Revaer task runner. `just --list` shows every recipe.
# The two Quick-start commands (./scripts/dev.sh run|test) install what is
# missing and then call these.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Show the recipes.
default:
    @just --list

# Format the workspace.
fmt:
    cargo fmt --all

# Check formatting without changing files.
fmt-check:
    cargo fmt --all -- --check

# Clippy with warnings as errors, and the docs with warnings as errors.
lint:
    cargo clippy --workspace --all-targets --all-features -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

# Every test: unit, integration (real libtorrent sessions on loopback) and doc tests.
test profile="default":
    cargo nextest run --workspace --all-features --profile {{profile}}
    cargo test --workspace --all-features --doc

# The Python test tools in .venv (the OpenAPI validator, the API fuzzer).
venv:
    ./scripts/dev.sh venv

# Regenerate docs/api/openapi.json from the code (a test fails while it drifts).
openapi:
    REVAER_BLESS_OPENAPI=1 cargo test -p revaer-api --test openapi the_committed_document_matches_the_code

# Debug build of everything.
build:
    cargo build --workspace --all-targets

# Release build.
build-rel:
    cargo build --workspace --release

# What CI runs: formatting, lints, tests.
ci: fmt-check lint (test "ci")

# Seed and fetch a generated payload between two engines on loopback and
# print bytes, seconds and MB/s (pass e.g. `--size 1GiB`).
bench *args:
    cargo run --release -p revaer-engine --example transfer-bench -- {{args}}

# Scale: N paused torrents in one engine; times adds, listing, restart.
bench-list torrents="10000":
    cargo run --release -p revaer-engine --example list-bench -- --torrents {{torrents}}

# Costs of the store's hot reads (pass a postgres:// URL to measure PostgreSQL).
bench-store *args:
    cargo run --release -p revaer-store --example store-bench -- {{args}}

# FsOps throughput: copy, hard links, extraction and checksums on a
# generated payload (pass e.g. `--size 1GiB --files 2000`).
bench-fsops *args:
    cargo run --release -p revaer-fsops --example fsops-bench -- {{args}}

# The API over HTTP on loopback: auth cost, N paused torrents listed and
# filtered, event fan-out to S subscribers.
bench-api torrents="10000" subscribers="100":
    cargo run --release -p revaer-api --example api-bench -- --torrents {{torrents}} --subscribers {{subscribers}}

# The qBittorrent facade with many torrents: info, maindata full and incremental.
bench-qbit torrents="10000":
    cargo run --release -p revaer-qbit --example qbit-bench -- --torrents {{torrents}}

# Run the daemon (`revaerd --help` for flags; data in ./revaer-data).
run *args:
    cargo run --release -p revaer-daemon --bin revaerd -- {{args}}

#!/usr/bin/env bash
# The Quick-start entry point on a fresh Debian or Ubuntu machine:
#   ./scripts/dev.sh run    installs what is missing, then runs the main job
#   ./scripts/dev.sh test   installs what is missing, then runs every check
# It installs system packages with apt (through sudo when not root), Rust
# with rustup when cargo is missing, and just and cargo-nextest with cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

# What building needs.
BUILD_PACKAGES=(build-essential pkg-config libtorrent-rasterbar-dev libboost-dev libarchive-dev curl ca-certificates)
# What the tests need besides: a foreign BitTorrent client for interop tests,
# a PostgreSQL server for the store's second backend, and archive tools for
# FsOps (unar reads RAR; 7z, zstd and xz build test fixtures), and Python
# for the test tools in .venv (scripts/requirements-test.txt), and openssl to
# make the certificates of the HTTPS tests.
TEST_PACKAGES=(aria2 opentracker postgresql postgresql-client unar p7zip-full zstd xz-utils python3 python3-venv openssl)
# The role the store tests use to create (and drop) one database per test.
TEST_PG_ROLE=revaer_test

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

ensure_packages() {
    local missing
    missing=$(missing_packages "$@")
    [ -z "$missing" ] && return 0
    say "installing system packages: $(echo $missing)"
    sudo_if_needed apt-get update -qq
    # shellcheck disable=SC2086
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

ensure_rust() {
    [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
    if ! command -v cargo >/dev/null 2>&1; then
        say "installing Rust with rustup"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
        . "$HOME/.cargo/env"
    fi
    # rust-toolchain.toml pins the version; this fetches it if it is missing.
    rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# Starts the local PostgreSQL cluster if it is down and makes sure the test
# role exists (password login over TCP, allowed to create databases), then
# points the tests at it. An explicit REVAER_TEST_POSTGRES wins.
ensure_postgres() {
    if [ -n "${REVAER_TEST_POSTGRES:-}" ]; then return 0; fi
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$version" ]; then
        echo "PostgreSQL is installed but has no cluster in /etc/postgresql" >&2
        exit 1
    fi
    if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
        say "starting PostgreSQL $version"
        sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$version" main start
    fi
    local tries=0
    until as_postgres psql -qtAc "SELECT 1" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 30 ]; then echo "PostgreSQL did not come up" >&2; exit 1; fi
        sleep 1
    done
    as_postgres psql -v ON_ERROR_STOP=1 -qc "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_PG_ROLE') THEN
            CREATE ROLE $TEST_PG_ROLE LOGIN CREATEDB PASSWORD '$TEST_PG_ROLE';
        END IF; END \$\$;" >/dev/null
    export REVAER_TEST_POSTGRES="postgres://$TEST_PG_ROLE:$TEST_PG_ROLE@127.0.0.1:5432/postgres"
}

# The Python tools the tests run, in .venv, reinstalled when
# scripts/requirements-test.txt changes.
ensure_venv() {
    local requirements=scripts/requirements-test.txt stamp=.venv/.requirements
    if [ ! -x .venv/bin/python ]; then
        say "creating the Python environment for the tests (.venv)"
        python3 -m venv .venv
    fi
    if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
        say "installing the Python test tools"
        .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$stamp"
    fi
}

ensure_cargo_tool() {
    local binary=$1 crate=$2
    if ! command -v "$binary" >/dev/null 2>&1; then
        say "installing $crate"
        cargo install --locked "$crate"
    fi
}

main() {
    local job=${1:-}
    case "$job" in
        run)
            shift
            ensure_packages "${BUILD_PACKAGES[@]}"
            ensure_rust
            ensure_cargo_tool just just
            just run "$@"
            ;;
        test)
            ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
            ensure_rust
            ensure_cargo_tool just just
            ensure_cargo_tool cargo-nextest cargo-nextest
            ensure_postgres
            ensure_venv
            just ci
            ;;
        venv)
            ensure_packages python3 python3-venv
            ensure_venv
            ;;
        *)
            echo "usage: $0 run [ARGS...] | test | venv" >&2
            exit 2
            ;;
    esac
}

main "$@"

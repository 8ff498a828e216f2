//! Builds the libtorrent bridge.
//!
//! Probes libtorrent-rasterbar through pkg-config (never downloads or builds
//! it), forwards its preprocessor defines to our C++ (they change libtorrent's
//! struct layouts, so they must match the library's build), and compiles the
//! glue translation units plus the cxx-generated bridges.

/// Oldest libtorrent-rasterbar this bridge is written against (Debian
/// bookworm ships 2.0.8).
const LIBTORRENT_MIN_VERSION: &str = "2.0.8";

/// The bridges, each with its glue translation unit.
const BRIDGES: &[(&str, &str)] = &[
    ("src/ffi/session.rs", "cpp/session.cc"),
    ("src/ffi/torrent.rs", "cpp/torrent.cc"),
    ("src/ffi/alert.rs", "cpp/alert.cc"),
    ("src/ffi/detail.rs", "cpp/detail.cc"),
];

/// Headers the glue and bridges include.
const HEADERS: &[&str] = &[
    "include/revaer-engine/common.h",
    "include/revaer-engine/session.h",
    "include/revaer-engine/torrent.h",
    "include/revaer-engine/alert.h",
    "include/revaer-engine/detail.h",
    "cpp/session_impl.h",
];

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");
    let library = match pkg_config::Config::new()
        .atleast_version(LIBTORRENT_MIN_VERSION)
        .probe("libtorrent-rasterbar")
    {
        Ok(library) => library,
        Err(err) => {
            eprintln!(
                "\nrevaer-engine needs libtorrent-rasterbar >= {LIBTORRENT_MIN_VERSION} (with Boost \
                 headers) and pkg-config.\nOn Debian/Ubuntu: sudo apt-get install \
                 libtorrent-rasterbar-dev libboost-dev pkg-config\n(or run ./scripts/dev.sh test, \
                 which installs them).\npkg-config said: {err}\n"
            );
            std::process::exit(1);
        }
    };

    let mut build = cxx_build::bridges(BRIDGES.iter().map(|(bridge, _)| *bridge));
    build.files(BRIDGES.iter().map(|(_, glue)| *glue)).std("c++17").flag("-fexceptions");
    // Debug info for libtorrent-heavy glue costs compile time and memory on
    // every build and is rarely useful; enable it with CXXFLAGS=-g.
    build.debug(false);
    // `-I/usr/include` would break libstdc++'s `#include_next`; the system
    // directory is searched anyway.
    for path in library.include_paths.iter().filter(|path| !path.starts_with("/usr/include")) {
        build.include(path);
    }
    for (name, value) in &library.defines {
        build.define(name, value.as_deref());
    }
    // libtorrent's own headers use deprecated Boost.Asio names.
    build.flag_if_supported("-Wno-deprecated-declarations");
    build.compile("revaer_engine_bridge");

    for (bridge, glue) in BRIDGES {
        println!("cargo:rerun-if-changed={bridge}");
        println!("cargo:rerun-if-changed={glue}");
    }
    for header in HEADERS {
        println!("cargo:rerun-if-changed={header}");
    }
}

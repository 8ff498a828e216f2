//! Archive fixtures written by the tests themselves: stored zip, ustar and
//! RAR 4 (single and multi-volume) writers small enough to read, so that
//! hostile names and links can be put in on purpose. 7z and compressed tars
//! come from the system tools.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One archive entry.
#[derive(Debug, Clone)]
pub enum Entry {
    File(&'static str, Vec<u8>),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A zip with every entry stored (no compression).
pub fn zip(path: &Path, entries: &[Entry]) {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut count = 0u16;
    for entry in entries {
        let (name, data, mode) = match entry {
            Entry::File(name, data) => (*name, data.clone(), 0o100_644u32),
            Entry::Dir(name) => (*name, Vec::new(), 0o040_755),
            Entry::Symlink(name, target) => (*name, target.as_bytes().to_vec(), 0o120_777),
        };
        let name =
            if matches!(entry, Entry::Dir(_)) { format!("{name}/") } else { name.to_owned() };
        let offset = out.len() as u32;
        let crc = crc32(&data);
        let common = |buf: &mut Vec<u8>| {
            buf.extend_from_slice(&20u16.to_le_bytes()); // version needed
            buf.extend_from_slice(&0u16.to_le_bytes()); // flags
            buf.extend_from_slice(&0u16.to_le_bytes()); // stored
            buf.extend_from_slice(&0u16.to_le_bytes()); // time
            buf.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&(0x0314u16).to_le_bytes()); // made by: unix
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        count += 1;
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    fs::write(path, out).expect("write zip");
}

fn octal(field: &mut [u8], value: u64) {
    let text = format!("{value:0width$o}\0", width = field.len() - 1);
    field.copy_from_slice(text.as_bytes());
}

/// A ustar archive (names taken as given, `..` and all).
pub fn tar(path: &Path, entries: &[Entry]) {
    let mut out = Vec::new();
    for entry in entries {
        let mut header = [0u8; 512];
        let (name, data, kind, link, mode): (&str, &[u8], u8, &str, u64) = match entry {
            Entry::File(name, data) => (name, data, b'0', "", 0o644),
            Entry::Dir(name) => (name, &[], b'5', "", 0o755),
            Entry::Symlink(name, target) => (name, &[], b'2', target, 0o777),
        };
        header[..name.len()].copy_from_slice(name.as_bytes());
        octal(&mut header[100..108], mode);
        octal(&mut header[108..116], 0);
        octal(&mut header[116..124], 0);
        octal(&mut header[124..136], data.len() as u64);
        octal(&mut header[136..148], 0);
        header[156] = kind;
        header[157..157 + link.len()].copy_from_slice(link.as_bytes());
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    fs::write(path, out).expect("write tar");
}

/// Compresses `path` in place with `gzip`, `xz` or `zstd`; returns the new path.
pub fn compress(path: &Path, tool: &str, ext: &str) -> PathBuf {
    let status =
        Command::new(tool).arg("-q").arg("-f").arg(path).status().expect("compressor runs");
    assert!(status.success(), "{tool} failed");
    let mut name = path.as_os_str().to_owned();
    name.push(ext);
    PathBuf::from(name)
}

/// A 7z of the contents of `dir` (by the `7z` program).
pub fn sevenz(archive: &Path, dir: &Path) {
    let output = Command::new("7z")
        .arg("a")
        .arg("-bd")
        .arg(archive)
        .arg(".")
        .current_dir(dir)
        .output()
        .expect("7z runs (p7zip-full)");
    assert!(output.status.success(), "7z a failed: {}", String::from_utf8_lossy(&output.stderr));
}

fn rar_block(kind: u8, flags: u16, body: &[u8]) -> Vec<u8> {
    let mut head = vec![kind];
    head.extend_from_slice(&flags.to_le_bytes());
    head.extend_from_slice(&((7 + body.len()) as u16).to_le_bytes());
    head.extend_from_slice(body);
    let mut block = ((crc32(&head) & 0xffff) as u16).to_le_bytes().to_vec();
    block.extend_from_slice(&head);
    block
}

fn rar_file(name: &str, part: &[u8], total: u64, crc: u32, flags: u16) -> Vec<u8> {
    rar_entry(name, part, total, crc, flags, 0o100_644)
}

fn rar_entry(name: &str, part: &[u8], total: u64, crc: u32, flags: u16, mode: u32) -> Vec<u8> {
    // RAR stores `\` between path components, whatever the host.
    let name = name.replace('/', "\\");
    let mut body = Vec::new();
    body.extend_from_slice(&(part.len() as u32).to_le_bytes());
    body.extend_from_slice(&(total as u32).to_le_bytes());
    body.push(3); // host: unix
    body.extend_from_slice(&crc.to_le_bytes());
    body.extend_from_slice(&0x5a21_0000u32.to_le_bytes()); // DOS time
    body.push(20); // version to unpack
    body.push(0x30); // stored
    body.extend_from_slice(&(name.len() as u16).to_le_bytes());
    body.extend_from_slice(&mode.to_le_bytes());
    body.extend_from_slice(name.as_bytes());
    let mut block = rar_block(0x74, flags | 0x8000, &body);
    block.extend_from_slice(part);
    block
}

const RAR_MARK: &[u8] = b"Rar!\x1a\x07\x00";

/// A single-volume RAR 4 archive with stored files.
pub fn rar(path: &Path, files: &[(&str, &[u8])]) {
    let mut out = RAR_MARK.to_vec();
    out.extend(rar_block(0x73, 0, &[0; 6]));
    for (name, data) in files {
        out.extend(rar_file(name, data, data.len() as u64, crc32(data), 0));
    }
    out.extend(rar_block(0x7b, 0, &[]));
    fs::write(path, out).expect("write rar");
}

/// A RAR 4 archive with a symbolic link (`name` → `target`) and files.
pub fn rar_with_link(path: &Path, name: &str, target: &str, files: &[(&str, &[u8])]) {
    let mut out = RAR_MARK.to_vec();
    out.extend(rar_block(0x73, 0, &[0; 6]));
    let link = target.as_bytes();
    out.extend(rar_entry(name, link, link.len() as u64, crc32(link), 0, 0o120_777));
    for (file, data) in files {
        out.extend(rar_file(file, data, data.len() as u64, crc32(data), 0));
    }
    out.extend(rar_block(0x7b, 0, &[]));
    fs::write(path, out).expect("write rar");
}

/// Naming of a multi-volume set.
#[derive(Debug, Clone, Copy)]
pub enum Volumes {
    /// `x.part1.rar`, `x.part2.rar`, …
    Parts,
    /// `x.rar`, `x.r00`, `x.r01`, …
    Old,
}

/// One stored file split over RAR 4 volumes of `chunk` bytes; returns the
/// volume paths in order.
pub fn rar_volumes(
    dir: &Path,
    base: &str,
    name: &str,
    data: &[u8],
    chunk: usize,
    naming: Volumes,
) -> Vec<PathBuf> {
    let parts: Vec<&[u8]> = data.chunks(chunk).collect();
    let mut paths = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let naming_flag = if matches!(naming, Volumes::Parts) { 0x0010 } else { 0 };
        let first_flag = if i == 0 { 0x0100 } else { 0 };
        let split = u16::from(i > 0) | (u16::from(!last) << 1);
        let crc = if last { crc32(data) } else { crc32(part) };
        let mut out = RAR_MARK.to_vec();
        out.extend(rar_block(0x73, 0x0001 | naming_flag | first_flag, &[0; 6]));
        out.extend(rar_file(name, part, data.len() as u64, crc, split));
        out.extend(rar_block(0x7b, u16::from(!last), &[]));
        let file = match naming {
            Volumes::Parts => format!("{base}.part{}.rar", i + 1),
            Volumes::Old if i == 0 => format!("{base}.rar"),
            Volumes::Old => format!("{base}.r{:02}", i - 1),
        };
        let path = dir.join(file);
        fs::write(&path, out).expect("write rar volume");
        paths.push(path);
    }
    paths
}

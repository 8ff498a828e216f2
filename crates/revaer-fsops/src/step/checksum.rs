//! Checksum: SHA-256 of every delivered file, recorded in the journal by
//! relative path (and so in `.revaer.meta`). Recomputed in full on a rerun.

use super::transfer::hash_file;
use super::{Ctx, Outcome};
use crate::error::Result;

pub(crate) fn apply(ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let plan = ctx.plan()?;
    if !plan.checksum {
        return Ok(Outcome::Skipped("checksums are off".to_owned()));
    }
    let mut sums = std::collections::BTreeMap::new();
    let mut bytes = 0u64;
    for item in ctx.meta.items.iter().filter(|item| !item.skip) {
        let digest = hash_file(&plan.destination.join(&item.rel))?;
        sums.insert(item.rel.clone(), crate::fsutil::hex(&digest));
        bytes += item.size;
    }
    let count = sums.len();
    ctx.meta.checksums = sums;
    Ok(Outcome::Done(format!("SHA-256 of {count} file(s), {bytes} bytes read")))
}

//! Reference implementations the fuzz targets check keyward against: plain,
//! obviously-correct (and slower) versions of what the crates do cleverly,
//! written without looking at the crates' own helpers. A target that only
//! checked "does not panic" would pass a scrubber that scrubs nothing.

pub mod forms;
pub mod reference;

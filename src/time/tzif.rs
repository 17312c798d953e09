//! TZif files (RFC 8536), answered the way Python's `zoneinfo` answers.
//!
//! Reading the very file `ZoneInfo(key)` reads, and applying its lookup rules (which
//! offset a time in a gap gets for each `fold`, when `fromutc` reports `fold=1`, and the
//! POSIX rule after the last transition), keeps every fire time identical to what the
//! reference computes with `zoneinfo` on the same machine.

use chrono::{Datelike, NaiveDateTime};

use super::civil::{self, naive_to_seconds};
use super::posix::{self, After};

#[derive(Clone, Debug)]
pub struct TzifZone {
    /// Transition instants, UTC epoch seconds.
    transitions_utc: Vec<i64>,
    /// The same transitions as wall-clock seconds, for fold=0 and fold=1.
    transitions_local: [Vec<i64>; 2],
    /// UTC offset (seconds) in force after each transition.
    offsets: Vec<i32>,
    /// Offset before the first transition: the first standard-time type.
    before: i32,
    after: After,
}

#[derive(Debug)]
pub struct TzifError(pub &'static str);

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TzifError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or(TzifError("truncated TZif data"))?;
        let slice = &self.data[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<usize, TzifError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn i32(&mut self) -> Result<i32, TzifError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64, TzifError> {
        let b = self.take(8)?;
        Ok(i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
}

struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

fn header(reader: &mut Reader) -> Result<Header, TzifError> {
    if reader.take(4)? != b"TZif" {
        return Err(TzifError("Invalid TZif file: magic not found"));
    }
    let version = match reader.take(1)?[0] {
        0 => 1,
        b @ b'2'..=b'9' => b - b'0',
        _ => return Err(TzifError("unknown TZif version")),
    };
    reader.take(15)?;
    Ok(Header {
        version,
        isutcnt: reader.u32()?,
        isstdcnt: reader.u32()?,
        leapcnt: reader.u32()?,
        timecnt: reader.u32()?,
        typecnt: reader.u32()?,
        charcnt: reader.u32()?,
    })
}

impl TzifZone {
    pub fn parse(data: &[u8]) -> Result<TzifZone, TzifError> {
        let mut reader = Reader { data, pos: 0 };
        let mut head = header(&mut reader)?;
        let wide = head.version >= 2;
        if wide {
            // Skip the 32-bit body: version 2+ repeats everything with 64-bit times.
            let v1_len = head.timecnt * 5
                + head.typecnt * 6
                + head.charcnt
                + head.leapcnt * 8
                + head.isstdcnt
                + head.isutcnt;
            reader.take(v1_len)?;
            head = header(&mut reader)?;
        }
        let mut transitions_utc = Vec::with_capacity(head.timecnt);
        for _ in 0..head.timecnt {
            transitions_utc.push(if wide { reader.i64()? } else { i64::from(reader.i32()?) });
        }
        let type_indices = reader.take(head.timecnt)?.to_vec();
        let mut type_offsets = Vec::with_capacity(head.typecnt);
        let mut type_is_dst = Vec::with_capacity(head.typecnt);
        for _ in 0..head.typecnt {
            type_offsets.push(reader.i32()?);
            type_is_dst.push(reader.take(2)?[0] != 0);
        }
        if type_indices.iter().any(|&i| usize::from(i) >= head.typecnt) {
            return Err(TzifError("TZif transition refers to a missing type"));
        }
        reader.take(head.charcnt)?;
        let offsets: Vec<i32> =
            type_indices.iter().map(|&i| type_offsets[usize::from(i)]).collect();

        let footer = if wide {
            let leap_len = head.leapcnt * 12;
            reader.take(head.isutcnt + head.isstdcnt + leap_len)?;
            let rest = &data[reader.pos..];
            let rest = rest.strip_prefix(b"\n").ok_or(TzifError("TZif footer missing"))?;
            let end = rest.iter().position(|&b| b == b'\n').ok_or(TzifError("TZif footer unterminated"))?;
            Some(std::str::from_utf8(&rest[..end]).map_err(|_| TzifError("TZif footer is not text"))?)
        } else {
            None
        };

        let before = type_is_dst
            .iter()
            .position(|&dst| !dst)
            .map(|i| type_offsets[i])
            .or_else(|| offsets.first().copied())
            .unwrap_or(0);
        let after = match footer.filter(|f| !f.is_empty()) {
            Some(tz) => posix::parse(tz).ok_or(TzifError("invalid TZ string in TZif footer"))?,
            None => After::Fixed(
                *offsets
                    .last()
                    .or(type_offsets.last())
                    .ok_or(TzifError("No time zone information found."))?,
            ),
        };
        let transitions_local = local_transitions(&transitions_utc, &type_indices, &type_offsets);
        Ok(TzifZone { transitions_utc, transitions_local, offsets, before, after })
    }

    /// `ZoneInfo.utcoffset()` in seconds.
    pub fn utcoffset(&self, local: NaiveDateTime, fold: bool) -> i32 {
        let ts = naive_to_seconds(local);
        let list = &self.transitions_local[usize::from(fold)];
        match (list.first(), list.last()) {
            (Some(&first), _) if ts < first => self.before,
            (Some(_), Some(&last)) if ts <= last => self.offsets[bisect_right(list, ts) - 1],
            _ => match &self.after {
                After::Fixed(offset) => *offset,
                After::Rule(rule) => rule.utcoffset(ts, local.year(), fold),
            },
        }
    }

    /// `ZoneInfo.fromutc()` for a UTC time in epoch seconds: the offset in seconds and
    /// the fold of the wall-clock result.
    pub fn fromutc(&self, ts: i64) -> (i32, bool) {
        let list = &self.transitions_utc;
        let (Some(&first), Some(&last)) = (list.first(), list.last()) else {
            return match &self.after {
                After::Fixed(offset) => (*offset, false),
                After::Rule(rule) => rule.fromutc(ts, year_of(ts)),
            };
        };
        if ts < first {
            return (self.before, false);
        }
        if ts > last {
            if let After::Rule(rule) = &self.after {
                return rule.fromutc(ts, year_of(ts));
            }
        }
        let idx = bisect_right(list, ts);
        let (previous, current) = if list.len() > 1 && ts >= list[1] {
            (self.offsets[idx - 2], self.offsets[idx - 1])
        } else if let (true, After::Fixed(after)) = (ts > last, &self.after) {
            // A single transition and a fixed offset after it.
            (self.offsets[self.offsets.len() - 1], *after)
        } else {
            (self.before, self.offsets[0])
        };
        let fold = i64::from(previous - current) > ts - list[idx - 1];
        (current, fold)
    }
}

/// Transition times on the wall clock. For fold=0 a transition is placed using the
/// larger of the offsets around it, for fold=1 the smaller, which is what makes a time
/// inside a gap or a fold resolve to the offset before (fold=0) or after (fold=1) it.
fn local_transitions(utc: &[i64], type_indices: &[u8], type_offsets: &[i32]) -> [Vec<i64>; 2] {
    let mut fold0 = utc.to_vec();
    let mut fold1 = utc.to_vec();
    for i in 0..utc.len() {
        let (a, b) = if i == 0 {
            if type_offsets.len() > 1 {
                (type_offsets[0], type_offsets[usize::from(type_indices[0])])
            } else {
                (type_offsets[0], type_offsets[0])
            }
        } else {
            (
                type_offsets[usize::from(type_indices[i - 1])],
                type_offsets[usize::from(type_indices[i])],
            )
        };
        fold0[i] += i64::from(a.max(b));
        fold1[i] += i64::from(a.min(b));
    }
    [fold0, fold1]
}

/// The UTC calendar year of an epoch second.
fn year_of(ts: i64) -> i32 {
    chrono::DateTime::from_timestamp(ts, 0).map_or(civil::MAX_YEAR, |utc| utc.year())
}

fn bisect_right(list: &[i64], value: i64) -> usize {
    list.partition_point(|&x| x <= value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::civil::naive;

    fn zone(name: &str) -> Option<TzifZone> {
        let data = std::fs::read(format!("/usr/share/zoneinfo/{name}")).ok()?;
        Some(TzifZone::parse(&data).expect("system TZif file parses"))
    }

    #[test]
    fn new_york_gap_and_fold() {
        let Some(ny) = zone("America/New_York") else { return };
        // 2013-03-10 02:30 does not exist: fold=0 reads it with EST, fold=1 with EDT.
        let gap = naive(2013, 3, 10, 2, 30, 0, 0).unwrap();
        assert_eq!(ny.utcoffset(gap, false), -5 * 3600);
        assert_eq!(ny.utcoffset(gap, true), -4 * 3600);
        // 2013-11-03 01:30 happens twice.
        let fold = naive(2013, 11, 3, 1, 30, 0, 0).unwrap();
        assert_eq!(ny.utcoffset(fold, false), -4 * 3600);
        assert_eq!(ny.utcoffset(fold, true), -5 * 3600);
        // 05:30 UTC is the first 01:30, 06:30 UTC the second.
        let utc = |n: chrono::NaiveDateTime| naive_to_seconds(n);
        assert_eq!(ny.fromutc(utc(naive(2013, 11, 3, 5, 30, 0, 0).unwrap())), (-4 * 3600, false));
        assert_eq!(ny.fromutc(utc(naive(2013, 11, 3, 6, 30, 0, 0).unwrap())), (-5 * 3600, true));
        // Far past the last explicit transition, the POSIX rule still switches.
        assert_eq!(ny.utcoffset(naive(2400, 7, 1, 12, 0, 0, 0).unwrap(), false), -4 * 3600);
        assert_eq!(ny.fromutc(utc(naive(2400, 1, 1, 12, 0, 0, 0).unwrap())), (-5 * 3600, false));
    }

    #[test]
    fn lord_howe_half_hour_dst() {
        let Some(lh) = zone("Australia/Lord_Howe") else { return };
        assert_eq!(lh.utcoffset(naive(2024, 1, 15, 12, 0, 0, 0).unwrap(), false), 11 * 3600);
        assert_eq!(lh.utcoffset(naive(2024, 7, 15, 12, 0, 0, 0).unwrap(), false), 10 * 3600 + 1800);
    }

    #[test]
    fn rejects_garbage() {
        assert!(TzifZone::parse(b"not a zone").is_err());
        assert!(TzifZone::parse(b"TZif2").is_err());
    }
}
